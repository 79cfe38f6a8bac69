# A sample application configuration with strict TLS: the self-test expects a pass.
import os

from pymongo import MongoClient

client = MongoClient(os.environ["ORDERS_URI"], tls=True, tlsCAFile="/etc/ssl/certs/ca-certificates.crt")
