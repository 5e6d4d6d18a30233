"""Identity: keys, certificates, the development PKI and signers."""
