package kratostest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
	"strings"
)

// The crypt(3) formats Kratos imports as $md5-crypt$, $sha256-crypt$ and
// $sha512-crypt$ (the $1$, $5$ and $6$ of glibc's crypt, as openssl
// passwd -1, -5 and -6 write them after the prefix), from their public
// descriptions: Poul-Henning Kamp's MD5-crypt and Ulrich Drepper's
// "Unix crypt using SHA-256 and SHA-512".

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// cryptEncode writes the digest in crypt's base64: each triple of bytes,
// picked by order (the last one may name fewer), little end first.
func cryptEncode(sum []byte, order [][]int) string {
	var b strings.Builder
	for _, g := range order {
		var w uint32
		n := len(g) + 1
		for _, i := range g {
			w = w<<8 | uint32(sum[i])
		}
		for range n {
			b.WriteByte(cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	return b.String()
}

var md5CryptOrder = [][]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}, {11}}

func md5Crypt(pw, salt []byte) string {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	alt := md5.New()
	alt.Write(pw)
	alt.Write(salt)
	alt.Write(pw)
	altSum := alt.Sum(nil)
	a := md5.New()
	a.Write(pw)
	a.Write([]byte("$1$"))
	a.Write(salt)
	for i := len(pw); i > 0; i -= 16 {
		a.Write(altSum[:min(i, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write([]byte{0})
		} else {
			a.Write(pw[:1])
		}
	}
	sum := a.Sum(nil)
	for i := range 1000 {
		c := md5.New()
		if i&1 != 0 {
			c.Write(pw)
		} else {
			c.Write(sum)
		}
		if i%3 != 0 {
			c.Write(salt)
		}
		if i%7 != 0 {
			c.Write(pw)
		}
		if i&1 != 0 {
			c.Write(sum)
		} else {
			c.Write(pw)
		}
		sum = c.Sum(nil)
	}
	return cryptEncode(sum, md5CryptOrder)
}

var (
	sha256CryptOrder = [][]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14}, {15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}, {31, 30}}
	sha512CryptOrder = [][]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
		{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}, {63}}
)

// repeatTo is b repeated to n bytes.
func repeatTo(b []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, b[:min(len(b), n-len(out))]...)
	}
	return out
}

func shaCrypt(newHash func() hash.Hash, pw, salt []byte, rounds int) []byte {
	if len(salt) > 16 {
		salt = salt[:16]
	}
	b := newHash()
	b.Write(pw)
	b.Write(salt)
	b.Write(pw)
	bSum := b.Sum(nil)
	size := len(bSum)
	a := newHash()
	a.Write(pw)
	a.Write(salt)
	a.Write(repeatTo(bSum, len(pw)))
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write(bSum)
		} else {
			a.Write(pw)
		}
	}
	sum := a.Sum(nil)
	dp := newHash()
	for range len(pw) {
		dp.Write(pw)
	}
	p := repeatTo(dp.Sum(nil), len(pw))
	ds := newHash()
	for range 16 + int(sum[0]) {
		ds.Write(salt)
	}
	s := repeatTo(ds.Sum(nil), len(salt))
	for i := range rounds {
		c := newHash()
		if i&1 != 0 {
			c.Write(p)
		} else {
			c.Write(sum[:size])
		}
		if i%3 != 0 {
			c.Write(s)
		}
		if i%7 != 0 {
			c.Write(p)
		}
		if i&1 != 0 {
			c.Write(sum[:size])
		} else {
			c.Write(p)
		}
		sum = c.Sum(sum[:0])
	}
	return sum
}

// cryptMatches verifies a $md5-crypt$, $sha256-crypt$ or $sha512-crypt$
// hash: [rounds=N$]SALT$HASH after the prefix.
func cryptMatches(h string, pw []byte) bool {
	var prefix string
	var order [][]int
	var newHash func() hash.Hash
	switch {
	case strings.HasPrefix(h, "$md5-crypt$"):
		prefix = "$md5-crypt$"
	case strings.HasPrefix(h, "$sha256-crypt$"):
		prefix, newHash, order = "$sha256-crypt$", sha256.New, sha256CryptOrder
	case strings.HasPrefix(h, "$sha512-crypt$"):
		prefix, newHash, order = "$sha512-crypt$", sha512.New, sha512CryptOrder
	default:
		return false
	}
	rest := h[len(prefix):]
	rounds := 5000
	if r, ok := strings.CutPrefix(rest, "rounds="); ok && newHash != nil {
		num, after, found := strings.Cut(r, "$")
		n, err := strconv.Atoi(num)
		if !found || err != nil {
			return false
		}
		rounds, rest = min(max(n, 1000), 999999999), after
	}
	salt, want, ok := strings.Cut(rest, "$")
	if !ok || strings.Contains(want, "$") {
		return false
	}
	var got string
	if newHash == nil {
		got = md5Crypt(pw, []byte(salt))
	} else {
		got = cryptEncode(shaCrypt(newHash, pw, []byte(salt), rounds), order)
	}
	return equalConstantTime([]byte(want), []byte(got))
}
