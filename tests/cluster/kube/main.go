// Command kube is a multi-call binary holding the Kubernetes control plane
// components that kubesnap's integration tests run: kube-apiserver,
// kube-controller-manager, kube-scheduler and etcd.
//
// Why one binary: the control-plane packages share most of their code
// (apiserver, client-go, generated API types), so linking them once makes the
// cold build on a 2-core CI machine much cheaper than four separate binaries.
// Why separate processes: feature gates, the legacy metrics registry, klog and
// the component-globals registry are process-global, so every component must
// still run in its own process (`kube apiserver ...`, `kube etcd ...`).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"

	// Blank imports that upstream's cmd/<component>/main.go files carry:
	// embedded time zone data (CronJob timeZone needs it when the host has
	// no tzdata), the JSON log format, and the client-go/version metrics.
	_ "time/tzdata"

	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"

	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s {apiserver|controller-manager|scheduler|etcd} [flags...]\n", filepath.Base(os.Args[0]))
	os.Exit(2)
}

// runCobra runs a Kubernetes component command the way upstream main() does
// (cli.Run sets up logging and flag normalisation), with our remaining args.
func runCobra(cmd *cobra.Command, args []string) {
	cmd.SetArgs(args)
	os.Exit(cli.Run(cmd))
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	sub, args := os.Args[1], os.Args[2:]
	switch sub {
	case "apiserver", "kube-apiserver":
		runCobra(apiserver.NewAPIServerCommand(), args)
	case "controller-manager", "kube-controller-manager":
		runCobra(controllermanager.NewControllerManagerCommand(), args)
	case "scheduler", "kube-scheduler":
		runCobra(scheduler.NewSchedulerCommand(), args)
	case "etcd":
		// etcdmain parses os.Args itself and expects argv[0] first.
		etcdmain.Main(append([]string{"etcd"}, args...))
	default:
		usage()
	}
}
