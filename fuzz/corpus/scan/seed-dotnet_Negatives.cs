using System.Net;
using MongoDB.Driver;

// settings.AllowInsecureTls = true;
ServicePointManager.ServerCertificateValidationCallback = (s, c, ch, e) => true;
var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (m, c, ch, e) => true };
var settings = new MongoClientSettings { AllowInsecureTls = false, UseTls = true };
settings.SslSettings = new SslSettings { CheckCertificateRevocation = true };
