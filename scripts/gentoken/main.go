// Command gentoken makes a new API client token. It prints the token (give
// it to the calling system; it is shown once and stored nowhere), its
// SHA-256, and the `pulumi config set` lines that register the client by
// its hash.
//
// Usage:
//
//	go run ./scripts/gentoken -client lab-system [-index 0] [-stack dev]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

func main() {
	client := flag.String("client", "", "name of the calling system, e.g. lab-system (required)")
	index := flag.Int("index", 0, "position of this client in the apiClients list")
	stack := flag.String("stack", "", "Pulumi stack to print commands for (optional)")
	flag.Parse()
	if err := token.ValidateClientName(*client); err != nil {
		fmt.Fprintln(os.Stderr, "gentoken: -client:", err)
		os.Exit(2)
	}
	tok, hash, err := token.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentoken:", err)
		os.Exit(1)
	}
	stackFlag := ""
	if *stack != "" {
		stackFlag = " --stack " + *stack
	}
	fmt.Printf("client:  %s\ntoken:   %s\nsha256:  %s\n\n", *client, tok, hash)
	fmt.Println("Give the token to the calling system (header `Authorization: <token>`); it is not stored anywhere.")
	fmt.Println("Register the client's hash:")
	fmt.Printf("  pulumi config set%s --path 'a2p-alerts:%s[%d].name' %s\n", stackFlag, names.ConfigAPIClients, *index, shellQuote(*client))
	fmt.Printf("  pulumi config set%s --path 'a2p-alerts:%s[%d].sha256' %s\n", stackFlag, names.ConfigAPIClients, *index, hash)
}

// shellQuote quotes s for a POSIX shell, so a name with spaces pastes as one
// argument.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
