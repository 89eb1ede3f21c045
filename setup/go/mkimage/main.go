// Command mkimage writes a one-layer docker-archive image from files on this machine, so
// the cluster's images are built with no registry and no Docker engine. `ctr images
// import` and `docker load` both accept the result.
//
//	mkimage --tag localhost/svc-conformance/agnhost:v1.34.4 --out agnhost.tar \
//	  --entrypoint '["/agnhost"]' /path/to/agnhost:/agnhost /bin/busybox:/bin/busybox \
//	  --link /bin/sh=busybox
//	mkimage --tag registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7 --out dnsutils.tar \
//	  --layer-tar rootfs.tar --entrypoint '["/bin/sh"]'     (a whole root filesystem as the layer)
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
	var tag, out, entrypoint, layerTar string
	var links, env listFlag
	flag.StringVar(&tag, "tag", "", "image reference, e.g. localhost/svc-conformance/agnhost:v1")
	flag.StringVar(&out, "out", "", "docker-archive file to write")
	flag.StringVar(&entrypoint, "entrypoint", "[]", "entrypoint as a JSON array")
	flag.Var(&links, "link", "symlink PATH=TARGET inside the image (repeatable)")
	flag.Var(&env, "env", "environment variable K=V (repeatable)")
	flag.StringVar(&layerTar, "layer-tar", "", "use this tar (e.g. a root filesystem) as the layer instead of SRC:DST files")
	flag.Parse()
	if tag == "" || out == "" || (flag.NArg() == 0) == (layerTar == "") {
		fmt.Fprintln(os.Stderr, "usage: mkimage --tag REF --out FILE [--entrypoint JSON] [--link P=T] [--env K=V] (SRC:DST... | --layer-tar FILE)")
		os.Exit(2)
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil {
		fail("--entrypoint is not a JSON array of strings: %v", err)
	}
	var layer []byte
	var err error
	if layerTar != "" {
		layer, err = os.ReadFile(layerTar)
	} else {
		layer, err = buildLayer(flag.Args(), links)
	}
	if err != nil {
		fail("%v", err)
	}
	if err := writeArchive(out, tag, layer, ep, append([]string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"}, env...)); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mkimage: "+format+"\n", args...)
	os.Exit(1)
}

// buildLayer tars the given files (SRC:DST), their parent directories, /tmp, a minimal
// /etc/passwd and the requested symlinks, in a stable order with fixed times.
func buildLayer(files []string, links []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	dirs := map[string]bool{"etc": true, "tmp": true, "bin": true}
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
	for name, data := range map[string][]byte{"etc/passwd": passwd, "etc/group": group} {
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
func writeArchive(out, tag string, layer []byte, entrypoint, env []string) error {
	layerSum := sha256.Sum256(layer)
	diffID := "sha256:" + hex.EncodeToString(layerSum[:])
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      "1970-01-01T00:00:00Z",
		"config":       map[string]any{"Entrypoint": entrypoint, "Env": env, "WorkingDir": "/"},
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
