// Calls an API with a DPoP-bound token (RFC 9449): a token a thief cannot use without this
// process's key. JDK 17 only (java.security for the key and the proofs, java.net.http).
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… \
//   AUDIENCE=https://orders.example SCOPE=read:orders API_URL=http://127.0.0.1:3000/orders \
//   java DpopClient.java
//
// Each request carries a fresh proof, a small JWT signed with a P-256 key made at start: the token
// request's proof binds the token to the key (cnf.jkt); each API call's proof names that call's
// method and URL and the token's hash (ath). A server that wants a nonce answers use_dpop_nonce
// with one in DPoP-Nonce, and the request is made once more with it. JSON is read with small
// regular expressions to stay JDK-only, as in Client.java.
import java.math.BigInteger;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;

public class DpopClient {

  /** This process's P-256 key, the proofs made with it, and each server's last nonce. */
  static final class DpopKey {
    private final KeyPair keys;
    final String jwk;
    final String thumbprint;
    private final Map<String, String> nonces = new HashMap<>();

    DpopKey() throws Exception {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      keys = generator.generateKeyPair();
      ECPublicKey publicKey = (ECPublicKey) keys.getPublic();
      String x = b64(unsigned(publicKey.getW().getAffineX()));
      String y = b64(unsigned(publicKey.getW().getAffineY()));
      // RFC 7638: the thumbprint the server writes in the token's cnf.jkt (members in this order).
      jwk = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"}";
      thumbprint = b64(MessageDigest.getInstance("SHA-256").digest(jwk.getBytes(StandardCharsets.UTF_8)));
    }

    String proof(String method, URI target, String accessToken) throws Exception {
      // htu: no query, no fragment.
      String htu = target.getScheme() + "://" + target.getRawAuthority() + target.getRawPath();
      StringBuilder claims = new StringBuilder()
          .append("{\"jti\":\"").append(UUID.randomUUID())
          .append("\",\"htm\":\"").append(method)
          .append("\",\"htu\":\"").append(htu)
          .append("\",\"iat\":").append(Instant.now().getEpochSecond());
      if (accessToken != null) {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(accessToken.getBytes(StandardCharsets.US_ASCII));
        claims.append(",\"ath\":\"").append(b64(hash)).append('"');
      }
      String nonce = nonces.get(origin(target));
      if (nonce != null) claims.append(",\"nonce\":\"").append(nonce).append('"');
      claims.append('}');
      String header = "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":" + jwk + "}";
      String input = b64(header.getBytes(StandardCharsets.UTF_8)) + "." + b64(claims.toString().getBytes(StandardCharsets.UTF_8));
      // JWS ES256 signatures are r and s, 32 bytes each (RFC 7518 §3.4), which this algorithm name gives.
      Signature signer = Signature.getInstance("SHA256withECDSAinP1363Format");
      signer.initSign(keys.getPrivate());
      signer.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + b64(signer.sign());
    }

    void rememberNonce(URI target, HttpResponse<String> response) {
      response.headers().firstValue("DPoP-Nonce").ifPresent(nonce -> nonces.put(origin(target), nonce));
    }
  }

  static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** A coordinate as exactly 32 bytes, big-endian: BigInteger adds a sign byte or drops leading zeros. */
  static byte[] unsigned(BigInteger value) {
    byte[] raw = value.toByteArray();
    byte[] fixed = new byte[32];
    int length = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - length, fixed, 32 - length, length);
    return fixed;
  }

  static String origin(URI uri) {
    return uri.getScheme() + "://" + uri.getRawAuthority();
  }

  static String field(String json, String name) {
    var matcher = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    return matcher.find() ? matcher.group(1) : null;
  }

  /** RFC 9449 §8 (token endpoint: 400 use_dpop_nonce) and §9 (resource: 401 and a DPoP challenge). */
  static boolean wantsNonce(HttpResponse<String> response) {
    if (response.headers().firstValue("DPoP-Nonce").isEmpty()) return false;
    if (response.statusCode() == 400) return "use_dpop_nonce".equals(field(response.body(), "error"));
    String challenge = response.headers().firstValue("WWW-Authenticate").orElse("");
    return response.statusCode() == 401 && challenge.toLowerCase().startsWith("dpop") && challenge.contains("use_dpop_nonce");
  }

  /** One request with a fresh proof, and once more with the server's nonce when it asks for one. */
  static HttpResponse<String> send(HttpClient http, DpopKey key, Supplier<HttpRequest.Builder> build, String method, URI target, String accessToken)
      throws Exception {
    HttpResponse<String> response = null;
    for (int attempt = 0; attempt < 2; attempt++) {
      HttpRequest.Builder request = build.get().header("DPoP", key.proof(method, target, accessToken));
      if (accessToken != null) request.header("Authorization", "DPoP " + accessToken);
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      key.rememberNonce(target, response);
      if (!wantsNonce(response)) break;
    }
    return response;
  }

  static String fetchToken(HttpClient http, DpopKey key, Map<String, String> env) throws Exception {
    URI metadataUri = URI.create(env.get("M2M_AUTH_ISSUER").replaceAll("/+$", "") + "/.well-known/oauth-authorization-server");
    String metadata = http.send(HttpRequest.newBuilder(metadataUri).build(), HttpResponse.BodyHandlers.ofString()).body();
    URI tokenEndpoint = URI.create(field(metadata, "token_endpoint"));
    String form = "grant_type=client_credentials&audience=" + URLEncoder.encode(env.get("AUDIENCE"), StandardCharsets.UTF_8)
        + (env.get("SCOPE") != null ? "&scope=" + URLEncoder.encode(env.get("SCOPE"), StandardCharsets.UTF_8) : "");
    String basic = Base64.getEncoder().encodeToString(
        (URLEncoder.encode(env.get("CLIENT_ID"), StandardCharsets.UTF_8) + ":" + URLEncoder.encode(env.get("CLIENT_SECRET"), StandardCharsets.UTF_8))
            .getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> response = send(http, key, () -> HttpRequest.newBuilder(tokenEndpoint)
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "Basic " + basic)
        .POST(HttpRequest.BodyPublishers.ofString(form)), "POST", tokenEndpoint, null);
    if (response.statusCode() != 200) {
      throw new IllegalStateException("token request failed: " + response.statusCode() + " " + field(response.body(), "error") + " "
          + field(response.body(), "error_description"));
    }
    String tokenType = field(response.body(), "token_type");
    if (!"dpop".equalsIgnoreCase(tokenType)) throw new IllegalStateException("expected a DPoP-bound token, got token_type " + tokenType);
    System.err.println("token fetched (token_type " + tokenType + ", bound to key " + key.thumbprint + ")");
    return field(response.body(), "access_token");
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    DpopKey key = new DpopKey();
    String token = fetchToken(http, key, env);
    URI api = URI.create(env.get("API_URL"));
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> response = send(http, key, () -> HttpRequest.newBuilder(api).timeout(Duration.ofSeconds(10)).GET(), "GET", api, token);
      System.out.println(response.statusCode() + " " + response.body());
    }
  }
}
