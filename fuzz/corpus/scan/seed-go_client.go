package db

import (
	"crypto/tls"
	"crypto/x509"

	"go.mongodb.org/mongo-driver/mongo/options"
)

func Options(uri string) *options.ClientOptions {
	return options.Client().ApplyURI(uri).SetTLSConfig(&tls.Config{
		InsecureSkipVerify: true, // expect: tls-insecure
	})
}

func Verified(uri string) *options.ClientOptions {
	cfg := &tls.Config{
		VerifyPeerCertificate: func(raw [][]byte, chains [][]*x509.Certificate) error { return nil }, // expect: custom-verifier-accepts-all
	}
	return options.Client().ApplyURI(uri + "&tlsAllowInvalidHostnames=true").SetTLSConfig(cfg) // expect: allow-invalid-hostnames
}
