// Calls an API protected by m2m-auth with golang.org/x/oauth2/clientcredentials and a token
// cached until 60 s before it expires.
//
//	M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… \
//	AUDIENCE=https://orders.example SCOPE=read:orders API_URL=http://127.0.0.1:3000/orders \
//	GO111MODULE=off GOPATH=/usr/share/gocode go run ./examples/go/client   (from the repository root; see docs/languages/go.md)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// cachedSource reuses a token until refreshAhead (at most half its lifetime) before it expires.
// oauth2.ReuseTokenSource would do too, but refreshes only 10 s before expiry.
type cachedSource struct {
	mu           sync.Mutex
	ctx          context.Context
	config       *clientcredentials.Config
	refreshAhead time.Duration
	token        *oauth2.Token
	renewAt      time.Time
}

func (s *cachedSource) Token() (*oauth2.Token, error) {
	s.mu.Lock() // one fetch at a time, however many goroutines ask
	defer s.mu.Unlock()
	if s.token != nil && time.Now().Before(s.renewAt) {
		return s.token, nil
	}
	token, err := s.config.Token(s.ctx) // always a new request
	if err != nil {
		return nil, err
	}
	lifetime := time.Until(token.Expiry)
	ahead := s.refreshAhead
	if ahead > lifetime/2 {
		ahead = lifetime / 2
	}
	s.token, s.renewAt = token, token.Expiry.Add(-ahead)
	log.Printf("token fetched (expires in %.0f s, scope '%v')", lifetime.Seconds(), token.Extra("scope"))
	return token, nil
}

func (s *cachedSource) invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = nil
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// tokenEndpoint reads the token endpoint from the issuer's metadata (RFC 8414).
func tokenEndpoint(ctx context.Context, issuer string) (string, error) {
	request, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(issuer, "/")+"/.well-known/oauth-authorization-server", nil)
	response, err := httpClient.Do(request)
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

func main() {
	log.SetFlags(0)
	for _, name := range []string{"M2M_AUTH_ISSUER", "CLIENT_ID", "CLIENT_SECRET", "API_URL"} {
		if os.Getenv(name) == "" {
			log.Fatal("set M2M_AUTH_ISSUER, CLIENT_ID, CLIENT_SECRET and API_URL (AUDIENCE and SCOPE are optional)")
		}
	}
	// The context lives as long as the program: token requests go through it for as long as the
	// service runs, with the HTTP client (and its timeout) it carries.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, httpClient)
	endpoint, err := tokenEndpoint(ctx, os.Getenv("M2M_AUTH_ISSUER"))
	if err != nil {
		log.Fatalf("discovery: %v", err)
	}
	config := &clientcredentials.Config{
		ClientID:       os.Getenv("CLIENT_ID"),
		ClientSecret:   os.Getenv("CLIENT_SECRET"),
		TokenURL:       endpoint,
		AuthStyle:      oauth2.AuthStyleInHeader, // client_secret_basic
		EndpointParams: url.Values{},
	}
	if scope := os.Getenv("SCOPE"); scope != "" {
		config.Scopes = strings.Fields(scope)
	}
	if audience := os.Getenv("AUDIENCE"); audience != "" {
		config.EndpointParams.Set("audience", audience)
	}
	source := &cachedSource{ctx: ctx, config: config, refreshAhead: 60 * time.Second}
	// oauth2.Transport asks the source for every request; oauth2.NewClient would wrap it in a
	// ReuseTokenSource and skip our refresh-ahead.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &oauth2.Transport{Source: source}}

	for i := 0; i < 3; i++ { // three calls, one token
		response, err := client.Get(os.Getenv("API_URL"))
		if err == nil && response.StatusCode == http.StatusUnauthorized && strings.Contains(response.Header.Get("WWW-Authenticate")+"invalid_token", "invalid_token") {
			response.Body.Close()
			source.invalidate() // the token was refused: one retry with a fresh one
			response, err = client.Get(os.Getenv("API_URL"))
		}
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(response.Body)
		response.Body.Close()
		fmt.Printf("%d %s\n", response.StatusCode, body)
	}
}
