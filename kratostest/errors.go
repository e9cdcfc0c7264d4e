package kratostest

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// apiError is an error answer in Kratos' (herodot's) format:
//
//	{"error":{"code":404,"status":"Not Found","reason":"...","message":"..."}}
//
// httpStatus is the status line; code is what the body claims, which Kratos
// sometimes sets differently (a malformed batch body is HTTP 400 with
// "code":500).
type apiError struct {
	id         string // herodot's error id, also sent as Ory-Error-Id
	httpStatus int
	code       int
	reason     string
	details    map[string]string
	message    string
}

func (e *apiError) Error() string {
	if e.reason != "" {
		return e.message + ": " + e.reason
	}
	return e.message
}

// The default messages of herodot's errors and of sqlcon's "no rows".
const (
	msgBadRequest      = "The request was malformed or contained invalid parameters"
	msgNotFound        = "The requested resource could not be found"
	msgNoRows          = "Unable to locate the resource"
	msgConflictCreate  = "The resource could not be created due to a conflict"
	msgUniqueViolation = "Unable to insert or update resource because a resource with that value exists already"
	msgUnauthorized    = "The request could not be authorized"
)

// errBadRequest is herodot.ErrBadRequest.WithReason(reason).
func errBadRequest(reason string) *apiError {
	return &apiError{httpStatus: http.StatusBadRequest, code: http.StatusBadRequest, reason: reason, message: msgBadRequest}
}

// errBadRequestMessage is herodot.ErrBadRequest.WithError(message): the
// message replaces the default one and there is no reason.
func errBadRequestMessage(message string) *apiError {
	return &apiError{httpStatus: http.StatusBadRequest, code: http.StatusBadRequest, message: message}
}

// errNoRows is what Kratos answers for an id it cannot find.
func errNoRows() *apiError {
	return &apiError{httpStatus: http.StatusNotFound, code: http.StatusNotFound, message: msgNoRows}
}

// errNotFound is herodot.ErrNotFound.WithReason(reason).
func errNotFound(reason string) *apiError {
	return &apiError{httpStatus: http.StatusNotFound, code: http.StatusNotFound, reason: reason, message: msgNotFound}
}

// errConflictCreate is the 409 of POST /admin/identities (005, 006).
func errConflictCreate() *apiError {
	return &apiError{httpStatus: http.StatusConflict, code: http.StatusConflict, reason: "This identity conflicts with another identity that already exists.", message: msgConflictCreate}
}

// errUniqueViolation is the 409 of PUT, PATCH and batch items (051, 059).
func errUniqueViolation() *apiError {
	return &apiError{httpStatus: http.StatusConflict, code: http.StatusConflict, message: msgUniqueViolation}
}

// errInternal is an error Kratos did not classify: herodot reports it as a
// 500 in the body. httpStatus is what the handler chose for the status line.
func errInternal(httpStatus int, message string) *apiError {
	return &apiError{httpStatus: httpStatus, code: http.StatusInternalServerError, message: message}
}

func errUnauthorized(reason string) *apiError {
	return &apiError{httpStatus: http.StatusUnauthorized, code: http.StatusUnauthorized, reason: reason, message: msgUnauthorized}
}

// errIdentityDisabled is the 401 of a login that names an inactive
// identity with its right password (Kratos v26.2.0; a wrong password is
// the usual 400 with message 4000006).
func errIdentityDisabled(identityID string) *apiError {
	return &apiError{httpStatus: http.StatusUnauthorized, code: http.StatusUnauthorized, reason: "This account was disabled.",
		details: map[string]string{"identity_id": identityID}, message: "identity is disabled"}
}

// errorObject is the inner error object, also used bare in batch items.
type errorObject struct {
	ID      string            `json:"id,omitempty"`
	Code    int               `json:"code"`
	Status  string            `json:"status"`
	Reason  string            `json:"reason,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	Message string            `json:"message"`
}

func (e *apiError) object() errorObject {
	return errorObject{ID: e.id, Code: e.code, Status: http.StatusText(e.code), Reason: e.reason, Details: e.details, Message: e.message}
}

// writeError answers with e the way herodot does: Content-Type
// application/json and an empty Ory-Error-Id header.
func writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h["Ory-Error-Id"] = []string{e.id}
	w.WriteHeader(e.httpStatus)
	_, _ = w.Write(encodeJSON(struct {
		Error errorObject `json:"error"`
	}{e.object()}))
}

// writeJSON answers with v encoded as herodot does (a JSON document and a
// newline).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(encodeJSON(v))
}

// encodeJSON encodes like json.Encoder: HTML-escaped, newline-terminated.
func encodeJSON(v any) []byte {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		// Every value the fake encodes is plain data; this cannot happen.
		panic("kratostest: encoding a response: " + err.Error())
	}
	return b.Bytes()
}
