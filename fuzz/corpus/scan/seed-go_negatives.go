package web

import (
	"crypto/tls"
	"net/http"

	"go.mongodb.org/mongo-driver/mongo/options"
)

// SetTLSConfig(&tls.Config{InsecureSkipVerify: true}) would be wrong.
var tr = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}

func Options(uri string, pool *x509.CertPool) *options.ClientOptions {
	return options.Client().ApplyURI(uri).SetTLSConfig(&tls.Config{RootCAs: pool, InsecureSkipVerify: false})
}
