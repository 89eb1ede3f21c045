// Command mkimage writes a one-layer docker-archive image from files on this machine, so
// the cluster's images are built with no registry and no Docker engine. `ctr images
// import` and `docker load` both accept the result.
//
//	mkimage --tag localhost/svc-conformance/agnhost:v1.34.4 --out agnhost.tar \
//	  --entrypoint '["/agnhost"]' /path/to/agnhost:/agnhost /bin/busybox:/bin/busybox \
//	  --link /bin/sh=busybox
//	mkimage --tag registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7 --out dnsutils.tar \
//	  --layer-tar rootfs.tar --cmd '["bash"]'               (a whole root filesystem as the layer)
//	mkimage --tag registry.k8s.io/pause:3.10.1 --out pause.tar --bare --user 65535:65535 \
//	  --entrypoint '["/pause"]' pause:/pause                (only the given files)
//
// --cmd, --user, --expose and --env PATH=... set what a Dockerfile's CMD, USER, EXPOSE and
// ENV would, so an image rebuilt here can match its upstream Dockerfile field by field.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var tag, out, entrypoint, cmd, user, layerTar string
	var links, env, expose listFlag
	var bare bool
	flag.StringVar(&tag, "tag", "", "image reference, e.g. localhost/svc-conformance/agnhost:v1")
	flag.StringVar(&out, "out", "", "docker-archive file to write")
	flag.StringVar(&entrypoint, "entrypoint", "[]", "entrypoint as a JSON array")
	flag.Var(&links, "link", "symlink PATH=TARGET inside the image (repeatable)")
	flag.Var(&env, "env", "environment variable K=V (repeatable)")
	flag.StringVar(&layerTar, "layer-tar", "", "use this tar (e.g. a root filesystem) as the layer instead of SRC:DST files")
	flag.StringVar(&cmd, "cmd", "", "default arguments (a Dockerfile's CMD) as a JSON array")
	flag.StringVar(&user, "user", "", "the user the image runs as (a Dockerfile's USER), e.g. 65535:65535")
	flag.Var(&expose, "expose", "a port the image exposes, PORT/PROTO (repeatable)")
	flag.BoolVar(&bare, "bare", false, "only the given files and links: no /etc/passwd, /etc/group, /tmp or /bin")
	flag.Parse()
	if tag == "" || out == "" || (flag.NArg() == 0) == (layerTar == "") {
		fmt.Fprintln(os.Stderr, "usage: mkimage --tag REF --out FILE [--entrypoint JSON] [--cmd JSON] [--user U] [--expose P/PROTO] [--link P=T] [--env K=V] [--bare] (SRC:DST... | --layer-tar FILE)")
		os.Exit(2)
	}
	var ep, args []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil {
		fail("--entrypoint is not a JSON array of strings: %v", err)
	}
	if cmd != "" {
		if err := json.Unmarshal([]byte(cmd), &args); err != nil {
			fail("--cmd is not a JSON array of strings: %v", err)
		}
	}
	var layer []byte
	var err error
	if layerTar != "" {
		layer, err = os.ReadFile(layerTar)
	} else {
		layer, err = buildLayer(flag.Args(), links, bare)
	}
	if err != nil {
		fail("%v", err)
	}
	// The default PATH unless --env gives one (upstream images carry Docker's default order).
	vars := []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"}
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			vars = nil
		}
	}
	config := map[string]any{"Entrypoint": ep, "Env": append(vars, env...), "WorkingDir": "/"}
	if args != nil {
		config["Cmd"] = args
	}
	if user != "" {
		config["User"] = user
	}
	if len(expose) > 0 {
		ports := map[string]struct{}{}
		for _, p := range expose {
			ports[p] = struct{}{}
		}
		config["ExposedPorts"] = ports
	}
	if err := writeArchive(out, tag, layer, config); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mkimage: "+format+"\n", args...)
	os.Exit(1)
}

// buildLayer tars the given files (SRC:DST), their parent directories, /tmp, a minimal
// /etc/passwd and the requested symlinks, in a stable order with fixed times.
func buildLayer(files []string, links []string, bare bool) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	dirs := map[string]bool{"etc": true, "tmp": true, "bin": true}
	if bare {
		dirs = map[string]bool{}
	}
	entries := map[string]func() error{}
	addDirs := func(p string) {
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			dirs[strings.TrimPrefix(d, "/")] = true
		}
	}
	for _, f := range files {
		src, dst, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not SRC:DST", f)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		info, _ := os.Stat(src)
		name := strings.TrimPrefix(dst, "/")
		addDirs(dst)
		entries[name] = func() error {
			hdr := &tar.Header{Name: name, Mode: int64(info.Mode().Perm()), Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			_, err := tw.Write(data)
			return err
		}
	}
	passwd := []byte("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
	group := []byte("root:x:0:\nnobody:x:65534:\n")
	defaults := map[string][]byte{"etc/passwd": passwd, "etc/group": group}
	if bare {
		defaults = nil
	}
	for name, data := range defaults {
		entries[name] = func() error {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}); err != nil {
				return err
			}
			_, err := tw.Write(data)
			return err
		}
	}
	for _, l := range links {
		p, target, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("--link %q is not PATH=TARGET", l)
		}
		name := strings.TrimPrefix(p, "/")
		addDirs(p)
		entries[name] = func() error {
			return tw.WriteHeader(&tar.Header{Name: name, Linkname: target, Typeflag: tar.TypeSymlink, Mode: 0o777, ModTime: epoch})
		}
	}
	dirNames := make([]string, 0, len(dirs))
	for d := range dirs {
		dirNames = append(dirNames, d)
	}
	sort.Strings(dirNames)
	for _, d := range dirNames {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Mode: mode, Typeflag: tar.TypeDir, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := entries[n](); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeArchive writes the docker-archive: the layer, its image config and manifest.json.
func writeArchive(out, tag string, layer []byte, imageConfig map[string]any) error {
	layerSum := sha256.Sum256(layer)
	diffID := "sha256:" + hex.EncodeToString(layerSum[:])
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      "1970-01-01T00:00:00Z",
		"config":       imageConfig,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	if err != nil {
		return err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	layerName := hex.EncodeToString(layerSum[:]) + "/layer.tar"
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{tag}, "Layers": []string{layerName}}})

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	epoch := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Name: path.Dir(layerName) + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: epoch}); err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		data []byte
	}{{layerName, layer}, {configName, config}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: epoch}); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	return tw.Close()
}
