// Calls an API protected by m2m-auth with a cached client-credentials token. JDK 17 only.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… \
//   AUDIENCE=https://orders.example SCOPE=read:orders API_URL=http://127.0.0.1:3000/orders \
//   java examples/java/Client.java        (from the repository root)
//
// JSON is read with two small regular expressions to stay JDK-only; a real service would use
// Jackson or Gson (or Spring Security's OAuth2 client, see docs/languages/java.md).
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

public class Client {

  /** Gets client-credentials tokens and reuses each until shortly before it expires. Thread-safe. */
  static final class TokenClient {
    private final HttpClient http;
    private final String issuer, clientId, clientSecret, audience, scope;
    private String tokenEndpoint;
    private String token;
    private Instant refreshAt = Instant.EPOCH;

    TokenClient(HttpClient http, String issuer, String clientId, String clientSecret, String audience, String scope) {
      this.http = http;
      this.issuer = issuer.replaceAll("/+$", "");
      this.clientId = clientId;
      this.clientSecret = clientSecret;
      this.audience = audience;
      this.scope = scope;
    }

    synchronized String getToken() throws Exception {
      if (token == null || !Instant.now().isBefore(refreshAt)) fetch();
      return token;
    }

    synchronized void invalidate() {
      token = null;
    }

    private void fetch() throws Exception {
      if (tokenEndpoint == null) {
        var metadata = send(HttpRequest.newBuilder(URI.create(issuer + "/.well-known/oauth-authorization-server")).GET());
        tokenEndpoint = jsonString(metadata.body(), "token_endpoint");
      }
      var form = new LinkedHashMap<String, String>();
      form.put("grant_type", "client_credentials");
      if (audience != null && !audience.isEmpty()) form.put("audience", audience);
      if (scope != null && !scope.isEmpty()) form.put("scope", scope);
      // client_secret_basic: id and secret form-encoded, then Base64 (RFC 6749 §2.3.1).
      var basic = Base64.getEncoder().encodeToString((encode(clientId) + ":" + encode(clientSecret)).getBytes(StandardCharsets.UTF_8));
      var response = send(HttpRequest.newBuilder(URI.create(tokenEndpoint))
          .header("Authorization", "Basic " + basic)
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(form.entrySet().stream().map(e -> e.getKey() + "=" + encode(e.getValue())).collect(Collectors.joining("&")))));
      if (response.statusCode() != 200) {
        throw new IllegalStateException("token request failed: " + response.statusCode() + " " + jsonString(response.body(), "error"));
      }
      long lifetime = jsonNumber(response.body(), "expires_in");
      token = jsonString(response.body(), "access_token");
      // Refresh when max(60 s, a fifth of the lifetime) remain, at most half of it.
      long ahead = Math.min(lifetime / 2, Math.max(60, lifetime / 5));
      refreshAt = Instant.now().plusSeconds(lifetime - ahead);
      System.err.println("token fetched (expires in " + lifetime + " s, scope '" + jsonString(response.body(), "scope") + "')");
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
      return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  /** One request with the bearer token; on 401 invalid_token, one retry with a fresh token. */
  static HttpResponse<String> callApi(HttpClient http, TokenClient tokens, String url) throws Exception {
    HttpResponse<String> response = null;
    for (int attempt = 0; attempt < 2; attempt++) {
      var request = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + tokens.getToken()).timeout(Duration.ofSeconds(10)).GET().build();
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
      var challenge = response.headers().firstValue("WWW-Authenticate").orElse("invalid_token");
      if (response.statusCode() != 401 || !challenge.contains("invalid_token")) break;
      tokens.invalidate();
    }
    return response;
  }

  static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  static String jsonString(String json, String name) {
    var match = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    return match.find() ? match.group(1) : "";
  }

  static long jsonNumber(String json, String name) {
    var match = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*(\\d+)").matcher(json);
    if (!match.find()) throw new IllegalStateException("no " + name + " in the response");
    return Long.parseLong(match.group(1));
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    for (var name : new String[] {"M2M_AUTH_ISSUER", "CLIENT_ID", "CLIENT_SECRET", "API_URL"}) {
      if (env.get(name) == null) {
        System.err.println("set M2M_AUTH_ISSUER, CLIENT_ID, CLIENT_SECRET and API_URL (AUDIENCE and SCOPE are optional)");
        System.exit(2);
      }
    }
    var http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    var tokens = new TokenClient(http, env.get("M2M_AUTH_ISSUER"), env.get("CLIENT_ID"), env.get("CLIENT_SECRET"), env.get("AUDIENCE"), env.get("SCOPE"));
    for (int i = 0; i < 3; i++) { // three calls, one token
      var response = callApi(http, tokens, env.get("API_URL"));
      System.out.println(response.statusCode() + " " + response.body());
    }
  }
}
