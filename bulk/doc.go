// Package bulk imports and exports Kratos identities in bulk, on top of a
// *client.Client and only what package client exports (as aws-sdk-go-v2's
// feature/s3/manager sits on the S3 client).
//
// Import and ImportJSONL create identities in batches through
// Identities.BatchCreate, each batch sent once (client.WithMaxRetries(0)):
// the importer decides about resending itself, with the client's retry
// engine and policy and the client's classification of failures
// (client.ClassifyFailure) extended by its own rules. Every input item gets
// exactly one outcome; an identity is never lost and never created twice
// (see Import). Conflicts and lost answers are settled in bulk by one walk
// of the identities through the client's iterator.
//
// Export and ExportJSONL stream identities as the bodies that create them
// again, in constant memory; ReadJSONL reads them back. ImportReport and
// ReadImportReport let an interrupted run resume.
//
//	sum, err := bulk.ImportJSONL(ctx, c, f, &bulk.ImportOptions{HashPasswords: true})
//	n, err := bulk.ExportJSONL(ctx, c, w, &bulk.ExportOptions{Credentials: true})
package bulk
