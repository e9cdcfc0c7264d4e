package kratostest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

const nilUUID = "00000000-0000-0000-0000-000000000000"

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// parseUUID parses s the way Kratos does (github.com/gofrs/uuid
// FromString): the canonical form in any case, 32 hex digits, braced, or
// a urn:uuid: URN. It returns the canonical lower-case form, or an error
// whose message is the one Kratos puts in its 400 answers.
func parseUUID(s string) (string, error) {
	var h string
	switch len(s) {
	case 32:
		h = s
	case 34, 38:
		if s[0] != '{' || s[len(s)-1] != '}' {
			return "", fmt.Errorf("uuid: incorrect UUID format in string %q", s)
		}
		return parseUUIDBody(s, s[1:len(s)-1])
	case 36:
		return parseUUIDBody(s, s)
	case 41, 45:
		if !strings.EqualFold(s[:9], "urn:uuid:") {
			return "", fmt.Errorf("uuid: incorrect UUID format in string %q", s)
		}
		return parseUUIDBody(s, s[9:])
	default:
		return "", fmt.Errorf("uuid: incorrect UUID length %d in string %q", len(s), s)
	}
	return decodeHex(s, h)
}

func parseUUIDBody(orig, s string) (string, error) {
	switch len(s) {
	case 32:
		return decodeHex(orig, s)
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", fmt.Errorf("uuid: incorrect UUID format in string %q", orig)
		}
		return decodeHex(orig, s[0:8]+s[9:13]+s[14:18]+s[19:23]+s[24:])
	}
	return "", fmt.Errorf("uuid: incorrect UUID format in string %q", orig)
}

func decodeHex(orig, h string) (string, error) {
	var b [16]byte
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return "", fmt.Errorf("uuid: incorrect UUID format in string %q", orig)
	}
	return formatUUID(b), nil
}

// parseUUIDOrNil is Kratos' x.ParseUUID: anything malformed reads as the
// nil UUID, which no identity has (so a malformed identity id is a 404).
func parseUUIDOrNil(s string) string {
	id, err := parseUUID(s)
	if err != nil {
		return nilUUID
	}
	return id
}
