require 'faraday'

conn = Faraday.new(url, ssl: { verify: false })
http.verify_mode = OpenSSL::SSL::VERIFY_NONE
settings = { ssl_verify: false } # no database client in this file
