package app;

import com.mongodb.MongoClientSettings;
import javax.net.ssl.*;

public class MongoConfig {
    /** Never call invalidHostNameAllowed(true) in production. */
    MongoClientSettings settings(SSLContext ctx) {
        return MongoClientSettings.builder()
            .applyToSslSettings(b -> b.enabled(true)
                .invalidHostNameAllowed(true) // expect: allow-invalid-hostnames
                .context(trustAll()))
            .build();
    }

    SSLContext trustAll() throws Exception {
        TrustManager[] all = { new X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}
            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {} // expect: custom-verifier-accepts-all
            public java.security.cert.X509Certificate[] getAcceptedIssuers() { return null; }
        } };
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, all, null);
        return ctx;
    }

    String uri = "mongodb://db1.example.com:27017/?tls=true&tlsAllowInvalidCertificates=true"; // expect: allow-invalid-certificates
}
