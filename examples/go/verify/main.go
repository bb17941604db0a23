// Checks an m2m-auth access token offline against the issuer's JWKS with the standard library:
// the RS256 signature (the JWK's n and e as an rsa.PublicKey), typ, iss, aud, exp, nbf and a
// required scope. In a real service, prefer a maintained library (github.com/MicahParks/keyfunc
// with github.com/golang-jwt/jwt, or github.com/lestrrat-go/jwx); this shows what they check.
//
//	M2M_AUTH_ISSUER=http://127.0.0.1:8080 AUDIENCE=https://orders.example REQUIRED_SCOPE=read:orders \
//	GO111MODULE=off GOPATH=/usr/share/gocode go run ./examples/go/verify "$TOKEN"   (from the repository root)
package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"
	"time"
)

const clockSkew = 5 // seconds

type invalidToken struct {
	status int
	reason string
}

func (e invalidToken) Error() string { return e.reason }

type verifier struct {
	issuer, audience, jwksURI string
	keys                      map[string]*rsa.PublicKey // by kid; an unknown kid refetches the JWKS
}

func newVerifier(issuer, audience string) (*verifier, error) {
	issuer = strings.TrimRight(issuer, "/")
	var metadata struct {
		JwksURI string `json:"jwks_uri"`
	}
	if err := getJSON(issuer+"/.well-known/oauth-authorization-server", &metadata); err != nil {
		return nil, err
	}
	return &verifier{issuer: issuer, audience: audience, jwksURI: metadata.JwksURI, keys: map[string]*rsa.PublicKey{}}, nil
}

// audience is a JSON string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(data []byte) error {
	var one string
	if json.Unmarshal(data, &one) == nil {
		*a = []string{one}
		return nil
	}
	return json.Unmarshal(data, (*[]string)(a))
}

type claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	ClientID  string   `json:"client_id"`
	Audience  audience `json:"aud"`
	Expiry    int64    `json:"exp"`
	NotBefore int64    `json:"nbf"`
	Scope     string   `json:"scope"`
}

func (v *verifier) verify(token, requiredScope string) (*claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalidToken{401, "not a JWT"}
	}
	var header struct {
		Alg, Typ, Kid string
	}
	var c claims
	if decodePart(parts[0], &header) != nil || decodePart(parts[1], &c) != nil {
		return nil, invalidToken{401, "not a JWT"}
	}
	if header.Alg != "RS256" {
		return nil, invalidToken{401, "algorithm not allowed"}
	}
	if !strings.EqualFold(header.Typ, "at+jwt") {
		return nil, invalidToken{401, "not an access token (typ)"}
	}
	key, err := v.key(header.Kid)
	if err != nil {
		return nil, err
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], signature) != nil {
		return nil, invalidToken{401, "bad signature"}
	}
	now := time.Now().Unix()
	switch {
	case c.Issuer != v.issuer:
		return nil, invalidToken{401, "wrong issuer"}
	case !contains(c.Audience, v.audience):
		return nil, invalidToken{401, "wrong audience"}
	case c.Expiry+clockSkew <= now:
		return nil, invalidToken{401, "expired"}
	case c.NotBefore-clockSkew > now:
		return nil, invalidToken{401, "not yet valid"}
	case requiredScope != "" && !contains(strings.Fields(c.Scope), requiredScope):
		return nil, invalidToken{403, "missing scope " + requiredScope}
	}
	return &c, nil
}

func (v *verifier) key(kid string) (*rsa.PublicKey, error) {
	if key, ok := v.keys[kid]; ok {
		return key, nil
	}
	var jwks struct {
		Keys []struct{ Kid, Kty, N, E string }
	}
	if err := getJSON(v.jwksURI, &jwks); err != nil {
		return nil, err
	}
	for _, jwk := range jwks.Keys {
		if jwk.Kid != kid || jwk.Kty != "RSA" {
			continue
		}
		n, errN := base64.RawURLEncoding.DecodeString(jwk.N)
		e, errE := base64.RawURLEncoding.DecodeString(jwk.E)
		if errN != nil || errE != nil {
			break
		}
		key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		v.keys[kid] = key
		return key, nil
	}
	return nil, invalidToken{401, "unknown key " + kid}
}

func decodePart(part string, into any) error {
	data, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

func getJSON(url string, into any) error {
	client := http.Client{Timeout: 5 * time.Second}
	response, err := client.Get(url)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", url, response.StatusCode)
	}
	return json.NewDecoder(response.Body).Decode(into)
}

func contains(list []string, value string) bool {
	for _, item := range list {
		if item == value {
			return true
		}
	}
	return false
}

func main() {
	issuer, aud := os.Getenv("M2M_AUTH_ISSUER"), os.Getenv("AUDIENCE")
	if len(os.Args) != 2 || issuer == "" || aud == "" {
		fmt.Fprintln(os.Stderr, "usage: M2M_AUTH_ISSUER=… AUDIENCE=… [REQUIRED_SCOPE=…] go run ./examples/go/verify <token>")
		os.Exit(2)
	}
	v, err := newVerifier(issuer, aud)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c, err := v.verify(os.Args[1], os.Getenv("REQUIRED_SCOPE"))
	var invalid invalidToken
	if errors.As(err, &invalid) {
		fmt.Printf("rejected (%d): %s\n", invalid.status, invalid.reason)
		os.Exit(1)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("valid: client %s, scope '%s'\n", c.ClientID, c.Scope)
}
