package main

import "fmt"

const clientHelp = `usage: chatgrade client (coming)

Grading a client (the suite plays the server, starts the student's client,
types into it and checks what it sends) needs the client conformance suite,
which is not in this version of chatgrade yet. When it is, this command
takes the client's command line:

	chatgrade client -- java -cp out Client

Until then, chatgrade grades servers: chatgrade help server.
`

// clientCommand says that grading clients is coming.
func clientCommand(_ []string, e env) int {
	fmt.Fprint(e.stderr, "chatgrade client: grading a client is coming: it needs the client conformance suite, which is not in this version yet.\n\n"+clientHelp)
	return 3
}
