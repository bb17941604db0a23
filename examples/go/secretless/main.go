// Gets an m2m-auth access token with the workload's platform token instead of a client secret.
// Standard library only.
//
//	M2M_AUTH_ISSUER=https://auth.internal.example PLATFORM_TOKEN_FILE=/var/run/secrets/tokens/m2m-auth \
//	AUDIENCE=https://orders.example SCOPE=read:orders go run ./secretless
//
// The platform token (a Kubernetes projected service-account token, a CI job's OIDC token, a
// SPIFFE JWT-SVID) is the credential: m2m-auth trusts its issuer and maps its subject to a client
// (docs/secretless.md). ASSERTION_TYPE=jwt-spiffe sends a JWT-SVID; CLIENT_ID is needed only when
// the subject matches credentials of several clients. Prints the scope and lifetime of the access
// token it got, never a token.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

var assertionTypes = map[string]string{
	"jwt-bearer": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
	"jwt-spiffe": "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe",
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int    `json:"expires_in"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// readPlatformToken is called for every token request: the platform rewrites the file before its
// token expires.
func readPlatformToken(path string) (string, error) {
	content, err := os.ReadFile(path)
	return strings.TrimSpace(string(content)), err
}

// tokenEndpoint reads the token endpoint from the issuer's metadata (RFC 8414).
func tokenEndpoint(issuer string) (string, error) {
	response, err := httpClient.Get(strings.TrimRight(issuer, "/") + "/.well-known/oauth-authorization-server")
	if err != nil {
		return "", err
	}
	defer response.Body.Close()
	var metadata struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(response.Body).Decode(&metadata); err != nil {
		return "", err
	}
	return metadata.TokenEndpoint, nil
}

// refused is the authorization server's answer when it is not a token: its status and OAuth error.
type refused struct {
	status int
	body   tokenResponse
}

func (r *refused) Error() string {
	return fmt.Sprintf("%d %s (%s)", r.status, r.body.Error, r.body.ErrorDescription)
}

// requestToken sends client_credentials with the platform token as the client assertion
// (RFC 7523 §2.2).
func requestToken(endpoint, platformToken, assertionType string) (*tokenResponse, error) {
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {assertionTypes[assertionType]},
		"client_assertion":      {platformToken},
	}
	for _, name := range []string{"AUDIENCE", "SCOPE", "CLIENT_ID"} {
		if value := os.Getenv(name); value != "" {
			form.Set(strings.ToLower(name), value)
		}
	}
	response, err := httpClient.PostForm(endpoint, form)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	var body tokenResponse
	if err := json.NewDecoder(response.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("%d, not a JSON body", response.StatusCode)
	}
	if response.StatusCode != http.StatusOK {
		return nil, &refused{response.StatusCode, body}
	}
	return &body, nil
}

func main() {
	log.SetFlags(0)
	issuer, tokenFile := os.Getenv("M2M_AUTH_ISSUER"), os.Getenv("PLATFORM_TOKEN_FILE")
	if issuer == "" || tokenFile == "" {
		log.Fatal("set M2M_AUTH_ISSUER and PLATFORM_TOKEN_FILE (AUDIENCE, SCOPE, CLIENT_ID and ASSERTION_TYPE are optional)")
	}
	assertionType := os.Getenv("ASSERTION_TYPE")
	if assertionType == "" {
		assertionType = "jwt-bearer"
	}
	if _, known := assertionTypes[assertionType]; !known {
		log.Fatal("ASSERTION_TYPE must be jwt-bearer or jwt-spiffe")
	}
	endpoint, err := tokenEndpoint(issuer)
	if err != nil {
		log.Fatalf("discovery: %v", err)
	}
	platformToken, err := readPlatformToken(tokenFile)
	if err != nil {
		log.Fatalf("platform token: %v", err)
	}
	token, err := requestToken(endpoint, platformToken, assertionType)
	if refusal, ok := err.(*refused); ok {
		log.Fatalf("token request refused: %v", refusal)
	} else if err != nil {
		log.Fatalf("token request: %v", err)
	}
	// The access token goes into Authorization headers, never into a log.
	fmt.Printf("access token: scope '%s', expires in %d s\n", token.Scope, token.ExpiresIn)
}
