"""The C2PA boundary (internal and unstable): build, embed, sign and read manifest stores."""
