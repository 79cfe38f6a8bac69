package web;

import javax.net.ssl.*;

/** An HTTP client's trust-all manager is not this scanner's business (no MongoDB here). */
public class Negatives {
    TrustManager tm = new X509TrustManager() {
        public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}
        public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}
        public java.security.cert.X509Certificate[] getAcceptedIssuers() { return null; }
    };
    boolean invalidHostNameAllowed = true;
}
