package diag

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key to
// t.TempDir() and returns their paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "diagkit test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func tlsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

func TestTLSServesHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	a, logs := startAgent(t, Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	client := tlsClient(&tls.Config{RootCAs: pool})
	defer client.CloseIdleConnections()

	// HTTPS answers, verified against the test CA, as diagctl's client would.
	resp, err := client.Get("https://" + a.Addr() + PathStatus)
	if err != nil {
		t.Fatalf("HTTPS GET: %v", err)
	}
	var st Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || st.Agent != "diagkit" {
		t.Fatalf("HTTPS status: %d, %+v, %v", resp.StatusCode, st, err)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("connection state %+v: want TLS 1.2 or later", resp.TLS)
	}
	// pprof too: a delta profile over HTTPS.
	resp, err = client.Get("https://" + a.Addr() + "/debug/pprof/heap?seconds=1")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTPS heap delta: %v %v", resp, err)
	}
	resp.Body.Close()
	if logs.FilterField(zap.Bool("tls", true)).Len() != 1 {
		t.Error(`"agent started" does not log tls=true`)
	}

	// Without the CA, the certificate is refused.
	untrusting := tlsClient(&tls.Config{})
	defer untrusting.CloseIdleConnections()
	if _, err := untrusting.Get("https://" + a.Addr() + PathStatus); err == nil {
		t.Error("a client without the test CA accepted the self-signed certificate")
	}

	// TLS 1.1 is refused.
	old := tlsClient(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	defer old.CloseIdleConnections()
	if _, err := old.Get("https://" + a.Addr() + PathStatus); err == nil {
		t.Error("a TLS 1.1 client was served")
	}

	// Plain HTTP to the TLS port gets nothing it can use: net/http answers
	// 400 "Client sent an HTTP request to an HTTPS server" and closes.
	conn, err := net.DialTimeout("tcp", a.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("GET " + PathStatus + " HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if strings.Contains(line, " 200 ") {
		t.Errorf("plain HTTP to the TLS port: %q", line)
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + a.Addr() + PathStatus); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP to the TLS port answered 200")
		}
		plain.CloseIdleConnections()
	}

	// Handshake failures go to the agent's logger at debug level, not to
	// the process's standard logger.
	deadline := time.Now().Add(5 * time.Second)
	for logs.FilterMessageSnippet("TLS handshake error").Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	hs := logs.FilterMessageSnippet("TLS handshake error").All()
	if len(hs) == 0 {
		t.Error("no TLS handshake error in the agent's log")
	}
	for _, e := range hs {
		if e.Level != zapcore.DebugLevel || e.LoggerName != "diagkit.http" {
			t.Errorf("handshake error logged at %v by %q, want debug by diagkit.http", e.Level, e.LoggerName)
		}
	}
}

func TestTLSStartErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	otherCert, otherKey, _ := selfSigned(t)
	garbage := filepath.Join(t.TempDir(), "garbage.key")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.key")
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"missing key file", certFile, missing, "diag: TLSKeyFile: "},
		{"missing cert file", missing, keyFile, "diag: TLSCertFile: "},
		{"bad key file", certFile, garbage, "diag: loading the TLS certificate"},
		{"key of another certificate", certFile, otherKey, "private key does not match public key"},
		{"certificate as key", otherCert, otherCert, "diag: loading the TLS certificate"},
		{"key only", "", keyFile, "diag: invalid config: TLSCertFile and TLSKeyFile: set both or neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Start(Config{Addr: "127.0.0.1:0", TLSCertFile: tc.cert, TLSKeyFile: tc.key, Logger: zap.NewNop()})
			if err == nil {
				a.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.HasPrefix(err.Error(), "diag: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
