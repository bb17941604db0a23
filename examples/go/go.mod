module example.com/m2m-auth-examples

go 1.19

require golang.org/x/oauth2 v0.3.0
