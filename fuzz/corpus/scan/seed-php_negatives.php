<?php
use MongoDB\Client;

$ctx = stream_context_create(['ssl' => ['verify_peer' => false, 'allow_self_signed' => true]]);
$page = file_get_contents('https://example.com', false, $ctx);
$client = new Client($uri, ['tlsAllowInvalidCertificates' => false]);
