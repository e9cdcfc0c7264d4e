package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// passwordLogin signs in through Kratos' public native login flow
// (GET /self-service/login/api, then POST /self-service/login?flow=ID),
// which is how real sessions come to exist. It is not part of the admin
// API, so it uses net/http directly.
func passwordLogin(ctx context.Context, publicURL, identifier, password string) error {
	base := strings.TrimRight(publicURL, "/")
	var flow struct {
		ID string `json:"id"`
	}
	if err := doJSON(ctx, http.MethodGet, base+"/self-service/login/api", nil, &flow); err != nil {
		return fmt.Errorf("creating a login flow: %w", err)
	}
	body, err := json.Marshal(map[string]string{"method": "password", "identifier": identifier, "password": password})
	if err != nil {
		return err
	}
	var done struct {
		SessionToken string `json:"session_token"`
	}
	if err := doJSON(ctx, http.MethodPost, base+"/self-service/login?flow="+url.QueryEscape(flow.ID), body, &done); err != nil {
		return fmt.Errorf("submitting the login flow: %w", err)
	}
	if done.SessionToken == "" {
		return fmt.Errorf("login answered without a session token")
	}
	return nil
}

func doJSON(ctx context.Context, method, u string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d: %.300s", method, u, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}
