// cni-driver runs CNI network lists through libcni, the Go library containerd, CRI-O,
// podman and Nomad call plugins with, for ioc-secure's end-to-end tests and benchmark.
//
// Built at test time from Debian's golang-github-appc-cni-dev, offline:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o DIR/cni-driver tests/cni-driver/main.go
//
// Usage:
//
//	cni-driver -conflist FILE -path DIR[:DIR] -cache DIR [-parallel] OP ID,NETNS,IFNAME...
//
// OP is add, check or del (libcni's AddNetworkList, CheckNetworkList, DelNetworkList; del
// finds prevResult in libcni's cache, as runtimes do), or gc and status, which libcni 1.1.2
// has no API for: those invoke the plugin named by -plugin directly with libcni's invoke
// package (gc with cni.dev/valid-attachments = the attachments given, NETNS ignored).
//
// One JSON line per attachment on stdout: {"id", "ok", "ms", "result" or "code"/"msg"}.
// The exit status is 0 when every operation succeeded, 1 otherwise.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
)

type attachment struct {
	ID     string `json:"containerID"`
	NetNS  string `json:"-"`
	IfName string `json:"ifname"`
}

type outcome struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Ms     float64         `json:"ms"`
	Result json.RawMessage `json:"result,omitempty"`
	Code   uint            `json:"code,omitempty"`
	Msg    string          `json:"msg,omitempty"`
}

func main() {
	conflist := flag.String("conflist", "", "network list file")
	path := flag.String("path", "/usr/lib/cni", "plugin directories, ':'-separated")
	cache := flag.String("cache", "", "libcni cache directory")
	parallel := flag.Bool("parallel", false, "run the attachments' operations concurrently")
	plugin := flag.String("plugin", "ioc-secure", "the plugin type gc and status invoke")
	flag.Parse()
	if flag.NArg() < 1 || *conflist == "" {
		fmt.Fprintln(os.Stderr, "usage: cni-driver -conflist FILE -path DIRS -cache DIR [-parallel] OP ID,NETNS,IFNAME...")
		os.Exit(2)
	}
	list, err := libcni.ConfListFromFile(*conflist)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conflist:", err)
		os.Exit(2)
	}
	dirs := strings.Split(*path, ":")
	cni := libcni.NewCNIConfigWithCacheDir(dirs, *cache, nil)
	op := flag.Arg(0)
	var attachments []attachment
	for _, arg := range flag.Args()[1:] {
		parts := strings.Split(arg, ",")
		if len(parts) != 3 {
			fmt.Fprintln(os.Stderr, "attachment must be ID,NETNS,IFNAME:", arg)
			os.Exit(2)
		}
		attachments = append(attachments, attachment{parts[0], parts[1], parts[2]})
	}
	ctx := context.Background()
	var outcomes []outcome
	switch op {
	case "gc", "status":
		outcomes = []outcome{direct(ctx, op, list, *plugin, dirs, attachments)}
	case "add", "check", "del":
		outcomes = make([]outcome, len(attachments))
		var wg sync.WaitGroup
		for i := range attachments {
			run := func(i int) {
				outcomes[i] = listOp(ctx, cni, op, list, attachments[i], *cache)
			}
			if *parallel {
				wg.Add(1)
				go func(i int) { defer wg.Done(); run(i) }(i)
			} else {
				run(i)
			}
		}
		wg.Wait()
	default:
		fmt.Fprintln(os.Stderr, "unknown operation", op)
		os.Exit(2)
	}
	status := 0
	enc := json.NewEncoder(os.Stdout)
	for _, o := range outcomes {
		if !o.OK {
			status = 1
		}
		_ = enc.Encode(o)
	}
	os.Exit(status)
}

func listOp(ctx context.Context, cni *libcni.CNIConfig, op string, list *libcni.NetworkConfigList, a attachment, cache string) outcome {
	rt := &libcni.RuntimeConf{
		ContainerID: a.ID,
		NetNS:       a.NetNS,
		IfName:      a.IfName,
		Args:        [][2]string{{"IgnoreUnknown", "1"}},
		CacheDir:    cache,
	}
	start := time.Now()
	var err error
	var result types.Result
	switch op {
	case "add":
		result, err = cni.AddNetworkList(ctx, list, rt)
	case "check":
		err = cni.CheckNetworkList(ctx, list, rt)
	case "del":
		err = cni.DelNetworkList(ctx, list, rt)
	}
	o := finish(a.ID, start, err)
	if err == nil && result != nil {
		if raw, jerr := json.Marshal(result); jerr == nil {
			o.Result = raw
		}
	}
	return o
}

// direct invokes one plugin of the list with GC or STATUS, as a CNI 1.1 runtime would.
func direct(ctx context.Context, op string, list *libcni.NetworkConfigList, plugin string, dirs []string, valid []attachment) outcome {
	start := time.Now()
	var conf map[string]interface{}
	for _, p := range list.Plugins {
		if p.Network.Type == plugin {
			if err := json.Unmarshal(p.Bytes, &conf); err != nil {
				return finish(op, start, err)
			}
		}
	}
	if conf == nil {
		return finish(op, start, fmt.Errorf("the list has no plugin of type %s", plugin))
	}
	conf["name"] = list.Name
	conf["cniVersion"] = list.CNIVersion
	if op == "gc" {
		if valid == nil {
			valid = []attachment{}
		}
		conf["cni.dev/valid-attachments"] = valid
	}
	stdin, err := json.Marshal(conf)
	if err != nil {
		return finish(op, start, err)
	}
	exe, err := invoke.FindInPath(plugin, dirs)
	if err != nil {
		return finish(op, start, err)
	}
	args := &invoke.Args{Command: strings.ToUpper(op), Path: strings.Join(dirs, string(filepath.ListSeparator))}
	err = invoke.ExecPluginWithoutResult(ctx, exe, stdin, args, nil)
	return finish(op, start, err)
}

func finish(id string, start time.Time, err error) outcome {
	o := outcome{ID: id, OK: err == nil, Ms: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		o.Msg = err.Error()
		var e *types.Error
		if errors.As(err, &e) {
			o.Code = e.Code
			o.Msg = e.Msg
		}
	}
	return o
}
