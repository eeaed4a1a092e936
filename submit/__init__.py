"""submit: send a checked job to the EvoLink API. Not built yet: see issue 5."""
