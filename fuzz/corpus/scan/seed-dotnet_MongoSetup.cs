using MongoDB.Driver;

var settings = MongoClientSettings.FromConnectionString(uri);
settings.AllowInsecureTls = true; // expect: tls-insecure
settings.SslSettings = new SslSettings
{
    CheckCertificateRevocation = false, // expect: revocation-check-disabled
    ServerCertificateValidationCallback = (sender, cert, chain, errors) => true, // expect: custom-verifier-accepts-all
};
var client = new MongoClient(settings);
