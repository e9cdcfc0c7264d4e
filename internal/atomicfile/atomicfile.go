// Package atomicfile is the one way the CLI writes a file: into a
// temporary file beside the target, readable by its owner only (0600),
// renamed into place once complete, so that a failed run leaves the
// previous file as it was. It never follows a symbolic link at the target
// and never writes over a file the command reads.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Mode is the permission of every file written: the files hold identities,
// password hashes and reports about them.
const Mode os.FileMode = 0o600

// File is a file being written. Write to it; Commit puts it in place,
// Abort (or a Close without Commit) leaves the target untouched.
type File struct {
	*os.File
	target string
	done   bool
}

// Create starts writing path. It refuses a path that is a symbolic link, a
// directory or anything but a regular file, and a path that is the same
// file as one of inputs (the files the command reads).
func Create(path string, inputs ...string) (*File, error) {
	if path == "" {
		return nil, errors.New("empty file name")
	}
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			return nil, fmt.Errorf("%s is a symbolic link: not followed; name the file itself, or remove the link", path)
		case !fi.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file", path)
		}
		for _, in := range inputs {
			if in == "" {
				continue
			}
			if ii, err := os.Stat(in); err == nil && os.SameFile(fi, ii) {
				return nil, fmt.Errorf("%s is also an input of this command (%s): write to another file", path, in)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(Mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f, target: path}, nil
}

// Commit flushes the file to disk and renames it over the target.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	err := f.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.target)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Abort removes the temporary file; the target stays as it was.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// Close aborts a file not committed; after Commit it does nothing. Defer it.
func (f *File) Close() error {
	f.Abort()
	return nil
}
