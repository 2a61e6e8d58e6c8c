"""Who is asking: identity, histories and resets, accounts, the shared reference cache."""
