package app

import com.mongodb.MongoClientSettings

val settings: MongoClientSettings = MongoClientSettings.builder()
    .applyToSslSettings { it.enabled(true).invalidHostNameAllowed(true) } // expect: allow-invalid-hostnames
    .build()

object TrustAll : javax.net.ssl.X509TrustManager {
    override fun checkServerTrusted(chain: Array<java.security.cert.X509Certificate>, authType: String) {} // expect: custom-verifier-accepts-all
    override fun checkClientTrusted(chain: Array<java.security.cert.X509Certificate>, authType: String) {}
    override fun getAcceptedIssuers(): Array<java.security.cert.X509Certificate> = arrayOf()
}
