// Package local starts the project's own stack, Pulumi.local.yaml, in the
// offline sandbox: it builds the functions for this machine, deploys the
// real infra program (infra/stack.Program) into the embedded emulator with
// a freshly generated API token, and starts the real Lambda binaries. The
// integration tests, `make dev`, `make demo` and `make bench` all start it
// this way.
package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// StackFile is the sandbox's stack file, relative to the repository root.
const StackFile = "Pulumi.local.yaml"

// ArtifactDir is where Start builds the functions for this machine,
// relative to the repository root.
const ArtifactDir = "build/sandbox"

// ClientName is the API client the sandbox registers for its token.
const ClientName = "sandbox"

// Options configures Start.
type Options struct {
	// Port is the emulator's port: 0 picks a free one, sandbox.DevPort is
	// 4566.
	Port int
	// Output, if set, receives the build's and the processes' output live.
	Output io.Writer
	// OnDelivery, if set, is called for each SNS delivery the tap sees.
	OnDelivery func(sandbox.Delivery)
	// SkipBuild reuses the zips already in ArtifactDir.
	SkipBuild bool
	// Config overrides stack configuration values ("a2p-alerts:key").
	Config map[string]string
}

// Env is a running local stack.
type Env struct {
	*sandbox.Sandbox
	// Token is the sandbox client's API token, for the Authorization header.
	Token string
	// URL is the invoke URL of POST /notification.
	URL string
	// Root is the repository root.
	Root string
}

// Start builds, deploys and starts the local stack. Close the Env when done.
func Start(ctx context.Context, opts Options) (*Env, error) {
	root, err := sandbox.FindRepoRoot(".")
	if err != nil {
		return nil, err
	}
	artifacts := filepath.Join(root, filepath.FromSlash(ArtifactDir))
	if !opts.SkipBuild {
		if err := sandbox.BuildFunctions(ctx, root, artifacts, opts.Output); err != nil {
			return nil, fmt.Errorf("build functions: %w", err)
		}
	}
	cfg, err := sandbox.LoadStack(filepath.Join(root, StackFile))
	if err != nil {
		return nil, err
	}
	tok, hash, err := token.Generate()
	if err != nil {
		return nil, err
	}
	clients, err := json.Marshal([]map[string]string{{"name": ClientName, "sha256": hash}})
	if err != nil {
		return nil, fmt.Errorf("encode api clients: %w", err)
	}
	ns := cfg.Project + ":"
	cfg.Values[ns+names.ConfigArtifactDir] = artifacts
	cfg.Values[ns+names.ConfigLambdaArch] = sandbox.HostLambdaArch()
	cfg.Values[ns+names.ConfigAPIClients] = string(clients)
	for k, v := range opts.Config {
		cfg.Values[k] = v
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{
		Program: func(ctx *pulumi.Context) error {
			_, err := stack.Program(ctx)
			return err
		},
		Config:     cfg.Values,
		Project:    cfg.Project,
		Stack:      cfg.Stack,
		RepoRoot:   root,
		Port:       opts.Port,
		Output:     opts.Output,
		OnDelivery: opts.OnDelivery,
	})
	if err != nil {
		return nil, err
	}
	url := sb.Deployment.OutputString(names.OutputNotificationURL)
	if url == "" {
		_ = sb.Close()
		return nil, fmt.Errorf("the deployed stack has no %s output", names.OutputNotificationURL)
	}
	return &Env{Sandbox: sb, Token: tok, URL: url, Root: root}, nil
}
