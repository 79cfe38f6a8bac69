<?php
// new MongoDB\Client($uri, ['tlsInsecure' => true]);
$client = new MongoDB\Client($uri, ['tlsAllowInvalidCertificates' => true]); // expect: allow-invalid-certificates
$manager = new MongoDB\Driver\Manager($uri, [], ['context' => stream_context_create(['ssl' => [
    'verify_peer' => false, // expect: allow-invalid-certificates
    'verify_peer_name' => false, // expect: allow-invalid-hostnames
]])]);
