c_cpp/client.cpp#include <mongocxx/client.hpp>

mongocxx::options::client client_options() {
    mongocxx::options::tls tls_options;
    tls_options.allow_invalid_certificates(true); // expect: allow-invalid-certificates
    mongocxx::options::client opts;
    opts.tls_opts(tls_options);
    return opts;
}
