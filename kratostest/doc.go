// Package kratostest is an in-memory Ory Kratos identity-admin server for
// tests: code that uses the SDK (package client) can be tested without a
// Kratos deployment, against a server that answers like the real one.
package kratostest
