// Gets an m2m-auth access token with the workload's platform token instead of a client secret.
// JDK 17 only.
//
//   M2M_AUTH_ISSUER=https://auth.internal.example PLATFORM_TOKEN_FILE=/var/run/secrets/tokens/m2m-auth \
//   AUDIENCE=https://orders.example SCOPE=read:orders java SecretlessClient.java
//
// The platform token (a Kubernetes projected service-account token, a CI job's OIDC token, a
// SPIFFE JWT-SVID) is the credential: m2m-auth trusts its issuer and maps its subject to a client
// (docs/secretless.md). ASSERTION_TYPE=jwt-spiffe sends a JWT-SVID; CLIENT_ID is needed only when
// the subject matches credentials of several clients. Prints the scope and lifetime of the access
// token it got, never a token. JSON is read with small regular expressions to stay JDK-only.
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

public class SecretlessClient {

  static final Map<String, String> ASSERTION_TYPES = Map.of(
      "jwt-bearer", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      "jwt-spiffe", "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe");

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Read for every token request: the platform rewrites the file before its token expires. */
  static String readPlatformToken(String path) throws Exception {
    return Files.readString(Path.of(path), StandardCharsets.UTF_8).strip();
  }

  /** The token endpoint from the issuer's metadata (RFC 8414). */
  static String tokenEndpoint(String issuer) throws Exception {
    var metadata = HTTP.send(
        HttpRequest.newBuilder(URI.create(issuer.replaceAll("/+$", "") + "/.well-known/oauth-authorization-server")).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return jsonString(metadata.body(), "token_endpoint");
  }

  /** client_credentials with the platform token as the client assertion (RFC 7523 §2.2); the JSON body of a 200. */
  static String requestToken(String endpoint, String platformToken, String assertionType, Map<String, String> env) throws Exception {
    var form = new LinkedHashMap<String, String>();
    form.put("grant_type", "client_credentials");
    form.put("client_assertion_type", ASSERTION_TYPES.get(assertionType));
    form.put("client_assertion", platformToken);
    for (var name : new String[] {"AUDIENCE", "SCOPE", "CLIENT_ID"}) {
      var value = env.get(name);
      if (value != null && !value.isEmpty()) form.put(name.toLowerCase(), value);
    }
    var body = form.entrySet().stream().map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    var response = HTTP.send(
        HttpRequest.newBuilder(URI.create(endpoint))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          response.statusCode() + " " + jsonString(response.body(), "error") + " (" + jsonString(response.body(), "error_description") + ")");
    }
    return response.body();
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
    if (env.get("M2M_AUTH_ISSUER") == null || env.get("PLATFORM_TOKEN_FILE") == null) {
      System.err.println("set M2M_AUTH_ISSUER and PLATFORM_TOKEN_FILE (AUDIENCE, SCOPE, CLIENT_ID and ASSERTION_TYPE are optional)");
      System.exit(2);
    }
    var assertionType = env.getOrDefault("ASSERTION_TYPE", "jwt-bearer");
    if (!ASSERTION_TYPES.containsKey(assertionType)) {
      System.err.println("ASSERTION_TYPE must be jwt-bearer or jwt-spiffe");
      System.exit(2);
    }
    String body;
    try {
      body = requestToken(tokenEndpoint(env.get("M2M_AUTH_ISSUER")), readPlatformToken(env.get("PLATFORM_TOKEN_FILE")), assertionType, env);
    } catch (IllegalStateException refused) {
      System.err.println("token request refused: " + refused.getMessage());
      System.exit(1);
      return;
    }
    // The access token goes into Authorization headers, never into a log.
    System.out.println("access token: scope '" + jsonString(body, "scope") + "', expires in " + jsonNumber(body, "expires_in") + " s");
  }
}
