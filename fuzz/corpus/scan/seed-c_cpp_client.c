
#include <mongoc/mongoc.h>

/* ssl_opts.weak_cert_validation = true; is how not to do it */
void configure(mongoc_client_t *client, mongoc_uri_t *uri) {
    mongoc_ssl_opt_t ssl_opts = {0};
    ssl_opts.weak_cert_validation = true; // expect: allow-invalid-certificates
    ssl_opts.allow_invalid_hostname = true; // expect: allow-invalid-hostnames
    mongoc_uri_set_option_as_bool(uri, MONGOC_URI_TLSINSECURE, true); // expect: tls-insecure
    mongoc_client_set_ssl_opts(client, &ssl_opts);
}
