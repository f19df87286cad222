window.YTD.account.part0 = [
  {
    "account" : {
      "email" : "author@example.invalid",
      "createdVia" : "web",
      "username" : "synthetic_author",
      "accountId" : "42",
      "createdAt" : "2010-01-01T00:00:00.000Z",
      "accountDisplayName" : "A Synthetic Author"
    }
  }
]
