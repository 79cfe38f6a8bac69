require 'mongo'

=begin
Mongo::Client.new(hosts, ssl_verify: false) is commented out here.
=end
client = Mongo::Client.new(['db1.example.com:27017'],
  ssl: true,
  ssl_verify: false) # expect: tls-insecure
other = Mongo::Client.new(URI, :ssl_verify_hostname => false) # expect: allow-invalid-hostnames
third = Mongo::Client.new(URI, ssl_verify_certificate: false, ssl_verify_ocsp_endpoint: false) # expect: allow-invalid-certificates, ocsp-check-disabled
