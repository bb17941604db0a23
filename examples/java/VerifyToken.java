// Checks an m2m-auth access token offline against the issuer's JWKS, with the JDK only:
// RS256 signature (the JWK's n and e as an RSAPublicKeySpec, SHA256withRSA), typ, iss, aud, exp, nbf
// and a required scope. For a Spring Boot service, use spring-boot-starter-oauth2-resource-server
// instead (docs/languages/java.md); this shows what such a check does.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 AUDIENCE=https://orders.example REQUIRED_SCOPE=read:orders \
//   java examples/java/VerifyToken.java "$TOKEN"        (from the repository root)
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

public class VerifyToken {

  static final class InvalidToken extends Exception {
    final int status;

    InvalidToken(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  static final long CLOCK_SKEW_SECONDS = 5;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String issuer;
  private final String audience;
  private final String jwksUri;
  /** Keys by kid; an unknown kid fetches the JWKS again (a rotated key). */
  private final Map<String, PublicKey> keys = new ConcurrentHashMap<>();

  VerifyToken(String issuer, String audience) throws Exception {
    this.issuer = issuer.replaceAll("/+$", "");
    this.audience = audience;
    this.jwksUri = jsonString(get(this.issuer + "/.well-known/oauth-authorization-server"), "jwks_uri");
  }

  /** Returns the claims (as JSON) of a valid token with the scope; throws InvalidToken otherwise. */
  String verify(String token, String requiredScope) throws Exception {
    var parts = token.split("\\.", -1);
    if (parts.length != 3) throw new InvalidToken(401, "not a JWT");
    var header = decode(parts[0]);
    var claims = decode(parts[1]);
    if (!"RS256".equals(jsonString(header, "alg"))) throw new InvalidToken(401, "algorithm not allowed");
    if (!jsonString(header, "typ").equalsIgnoreCase("at+jwt")) throw new InvalidToken(401, "not an access token (typ)");
    var signature = Signature.getInstance("SHA256withRSA");
    signature.initVerify(key(jsonString(header, "kid")));
    signature.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    if (!signature.verify(Base64.getUrlDecoder().decode(parts[2]))) throw new InvalidToken(401, "bad signature");
    long now = Instant.now().getEpochSecond();
    if (!issuer.equals(jsonString(claims, "iss"))) throw new InvalidToken(401, "wrong issuer");
    if (!audiences(claims).contains(audience)) throw new InvalidToken(401, "wrong audience");
    if (jsonNumber(claims, "exp", 0) + CLOCK_SKEW_SECONDS <= now) throw new InvalidToken(401, "expired");
    if (jsonNumber(claims, "nbf", 0) - CLOCK_SKEW_SECONDS > now) throw new InvalidToken(401, "not yet valid");
    if (requiredScope != null && !requiredScope.isEmpty() && !Arrays.asList(jsonString(claims, "scope").split(" ")).contains(requiredScope)) {
      throw new InvalidToken(403, "missing scope " + requiredScope);
    }
    return claims;
  }

  private PublicKey key(String kid) throws Exception {
    var known = keys.get(kid);
    if (known != null) return known;
    // JWKs are flat objects: find the one with this kid.
    var jwk = Pattern.compile("\\{[^{}]*\"kid\"\\s*:\\s*\"" + Pattern.quote(kid) + "\"[^{}]*\\}").matcher(get(jwksUri));
    if (!jwk.find() || !"RSA".equals(jsonString(jwk.group(), "kty"))) throw new InvalidToken(401, "unknown key " + kid);
    var n = new BigInteger(1, Base64.getUrlDecoder().decode(jsonString(jwk.group(), "n")));
    var e = new BigInteger(1, Base64.getUrlDecoder().decode(jsonString(jwk.group(), "e")));
    var key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
    keys.put(kid, key);
    return key;
  }

  private String get(String url) throws Exception {
    var response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) throw new IllegalStateException(url + " answered " + response.statusCode());
    return response.body();
  }

  private static String decode(String part) throws InvalidToken {
    try {
      return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException error) {
      throw new InvalidToken(401, "not a JWT");
    }
  }

  /** `aud` as a string or an array of strings. */
  private static java.util.List<String> audiences(String claims) {
    var single = jsonString(claims, "aud");
    if (!single.isEmpty()) return java.util.List.of(single);
    var array = Pattern.compile("\"aud\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(claims);
    if (!array.find()) return java.util.List.of();
    return Pattern.compile("\"([^\"]*)\"").matcher(array.group(1)).results().map(m -> m.group(1)).toList();
  }

  static String jsonString(String json, String name) {
    var match = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    return match.find() ? match.group(1) : "";
  }

  static long jsonNumber(String json, String name, long otherwise) {
    var match = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*(\\d+)").matcher(json);
    return match.find() ? Long.parseLong(match.group(1)) : otherwise;
  }

  public static void main(String[] args) throws Exception {
    var issuer = System.getenv("M2M_AUTH_ISSUER");
    var audience = System.getenv("AUDIENCE");
    if (args.length != 1 || issuer == null || audience == null) {
      System.err.println("usage: M2M_AUTH_ISSUER=… AUDIENCE=… [REQUIRED_SCOPE=…] java examples/java/VerifyToken.java <token>");
      System.exit(2);
    }
    try {
      var claims = new VerifyToken(issuer, audience).verify(args[0], System.getenv("REQUIRED_SCOPE"));
      System.out.println("valid: client " + jsonString(claims, "client_id") + ", scope '" + jsonString(claims, "scope") + "'");
    } catch (InvalidToken error) {
      System.out.println("rejected (" + error.status + "): " + error.getMessage());
      System.exit(1);
    }
  }
}
