// Calls an API with a DPoP-bound token (RFC 9449): a token a thief cannot use without this
// process's key. Standard library only (crypto/ecdsa for the key and the proofs).
//
//	M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… \
//	AUDIENCE=https://orders.example SCOPE=read:orders API_URL=http://127.0.0.1:3000/orders \
//	go run ./dpop
//
// Each request carries a fresh proof, a small JWT signed with a P-256 key made at start: the
// token request's proof binds the token to the key (cnf.jkt); each API call's proof names that
// call's method and URL and the token's hash (ath). A server that wants a nonce answers
// use_dpop_nonce with one in DPoP-Nonce, and the request is made once more with it.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

var b64 = base64.RawURLEncoding

// dpopKey is this process's P-256 key, the proofs made with it, and each server's last nonce.
type dpopKey struct {
	private    *ecdsa.PrivateKey
	jwk        map[string]string
	thumbprint string
	nonces     map[string]string
}

func newDpopKey() (*dpopKey, error) {
	private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	x := b64.EncodeToString(private.PublicKey.X.FillBytes(make([]byte, 32)))
	y := b64.EncodeToString(private.PublicKey.Y.FillBytes(make([]byte, 32)))
	// RFC 7638: the thumbprint the server writes in the token's cnf.jkt (members in this order).
	canonical := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, x, y)
	sum := sha256.Sum256([]byte(canonical))
	return &dpopKey{
		private:    private,
		jwk:        map[string]string{"kty": "EC", "crv": "P-256", "x": x, "y": y},
		thumbprint: b64.EncodeToString(sum[:]),
		nonces:     map[string]string{},
	}, nil
}

func (k *dpopKey) proof(method, target, accessToken string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims := map[string]any{
		"jti": b64.EncodeToString(jti),
		"htm": method,
		"htu": u.Scheme + "://" + u.Host + u.EscapedPath(), // no query, no fragment
		"iat": time.Now().Unix(),
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64.EncodeToString(sum[:])
	}
	if nonce := k.nonces[u.Scheme+"://"+u.Host]; nonce != "" {
		claims["nonce"] = nonce
	}
	header, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk})
	payload, _ := json.Marshal(claims)
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.private, digest[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 signatures are r and s, 32 bytes each (RFC 7518 §3.4), not ASN.1.
	signature := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	return input + "." + b64.EncodeToString(signature), nil
}

// wantsNonce: RFC 9449 §8 (token endpoint: 400 use_dpop_nonce) and §9 (resource: 401 and a DPoP challenge).
func wantsNonce(response *http.Response, body []byte) bool {
	if response.Header.Get("DPoP-Nonce") == "" {
		return false
	}
	if response.StatusCode == http.StatusBadRequest {
		var answer struct{ Error string }
		return json.Unmarshal(body, &answer) == nil && answer.Error == "use_dpop_nonce"
	}
	challenge := response.Header.Get("WWW-Authenticate")
	return response.StatusCode == http.StatusUnauthorized && strings.HasPrefix(strings.ToLower(challenge), "dpop") && strings.Contains(challenge, "use_dpop_nonce")
}

// send makes one request with a fresh proof, and once more with the server's nonce when it asks for one.
func (k *dpopKey) send(build func() (*http.Request, error), accessToken string) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		request, err := build()
		if err != nil {
			return nil, nil, err
		}
		proof, err := k.proof(request.Method, request.URL.String(), accessToken)
		if err != nil {
			return nil, nil, err
		}
		request.Header.Set("DPoP", proof)
		if accessToken != "" {
			request.Header.Set("Authorization", "DPoP "+accessToken)
		}
		response, err := http.DefaultClient.Do(request)
		if err != nil {
			return nil, nil, err
		}
		body, err := io.ReadAll(response.Body)
		response.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		if nonce := response.Header.Get("DPoP-Nonce"); nonce != "" {
			k.nonces[request.URL.Scheme+"://"+request.URL.Host] = nonce
		}
		if attempt == 1 || !wantsNonce(response, body) {
			return response, body, nil
		}
	}
}

func fetchToken(key *dpopKey) (string, error) {
	metadataResponse, err := http.Get(strings.TrimRight(os.Getenv("M2M_AUTH_ISSUER"), "/") + "/.well-known/oauth-authorization-server")
	if err != nil {
		return "", err
	}
	defer metadataResponse.Body.Close()
	var metadata struct {
		TokenEndpoint string   `json:"token_endpoint"`
		Algorithms    []string `json:"dpop_signing_alg_values_supported"`
	}
	if err := json.NewDecoder(metadataResponse.Body).Decode(&metadata); err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {os.Getenv("AUDIENCE")}}
	if scope := os.Getenv("SCOPE"); scope != "" {
		form.Set("scope", scope)
	}
	response, body, err := key.send(func() (*http.Request, error) {
		request, err := http.NewRequest(http.MethodPost, metadata.TokenEndpoint, strings.NewReader(form.Encode()))
		if err == nil {
			request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			request.SetBasicAuth(url.QueryEscape(os.Getenv("CLIENT_ID")), url.QueryEscape(os.Getenv("CLIENT_SECRET")))
		}
		return request, err
	}, "")
	if err != nil {
		return "", err
	}
	var token struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &token); err != nil {
		return "", err
	}
	if response.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token request failed: %d %s %s", response.StatusCode, token.Error, token.Description)
	}
	if !strings.EqualFold(token.TokenType, "DPoP") {
		return "", fmt.Errorf("expected a DPoP-bound token, got token_type %q", token.TokenType)
	}
	fmt.Fprintf(os.Stderr, "token fetched (token_type %s, bound to key %s)\n", token.TokenType, key.thumbprint)
	return token.AccessToken, nil
}

func main() {
	key, err := newDpopKey()
	if err != nil {
		log.Fatal(err)
	}
	token, err := fetchToken(key)
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		response, body, err := key.send(func() (*http.Request, error) { return http.NewRequest(http.MethodGet, os.Getenv("API_URL"), nil) }, token)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(response.StatusCode, strings.TrimSpace(string(body)))
	}
}
