package kratostest

import "testing"

// TestCryptFormats checks the crypt(3) verification against hashes
// openssl passwd -1, -5 and -6 made (a real Kratos v26.2.0 signs each in
// under its $md5-crypt$, $sha256-crypt$, $sha512-crypt$ prefix:
// TestPasswordHashFormats).
func TestCryptFormats(t *testing.T) {
	const pw = "correct-horse-battery-staple-42"
	for _, h := range []string{
		"$md5-crypt$saltsalt$F1R1z6/Ylozj9nD508owb1",
		"$sha256-crypt$saltsalt$k1WI84mb73gwQUusci20rZmeNdfhGjvIgsC8QKSW4Y2",
		"$sha256-crypt$rounds=1000$saltsalt$PPXII2ytlwvctDuAzh5sJ.8dD2gRVf1NegCD8EJxvT3",
		"$sha512-crypt$saltsalt$hLhwVO90IlfFbcvJHOG9M/WyvWaUmf9mtM9LSsh65JOSiax2mCWS9IVNzTLtp7memoMWS9InjLUZ334hWojvu0",
	} {
		if ok, known := hashMatches(h, pw); !ok || !known {
			t.Errorf("%.20s...: match %v, known %v; want both", h, ok, known)
		}
		if ok, _ := hashMatches(h, pw+"x"); ok {
			t.Errorf("%.20s... matches a wrong password", h)
		}
	}
}
