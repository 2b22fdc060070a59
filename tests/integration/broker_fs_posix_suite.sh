#!/bin/busybox sh
# POSIX behaviour suite for the virtio-fs QEMU test: run in the guest on the share and on
# the host in a plain directory (busybox applets both times); prints "S: " lines whose
# listing must be identical. BIG is a directory of 10,000 files the host made (creating them
# from a TCG guest would take most of the test's time).
# usage: broker_fs_posix_suite.sh DIR HELPER BIG
set -u
d=$1/suite
h=$2
big=$3
rm -rf "$d"
mkdir -p "$d" && cd "$d" || { echo "S: cannot enter $d"; exit 1; }

echo hello > file; echo more >> file
echo "S: read back $(cat file | tr '\n' '|')"
echo A > x; echo B > y; mv x y
echo "S: rename over $(cat y) x_gone=$([ -e x ] && echo no || echo yes)"
mkdir -p dir/sub; echo inner > dir/sub/f; mv dir dir2
echo "S: dir rename $(cat dir2/sub/f)"
ln file hard
echo "S: hard link nlink=$(stat -c %h file) same_inode=$([ "$(stat -c %i file)" = "$(stat -c %i hard)" ] && echo yes || echo no)"
ln -s file soft; ln -s dir2/sub/f soft2; ln -s /nonexistent dangling
echo "S: symlinks $(readlink soft) $(cat soft2) $(readlink dangling) dangling_reads=$(cat dangling 2>/dev/null || echo no)"
chmod 0751 file; chmod 0600 y; chmod 1777 dir2
chown 1234:5678 y; chown -h 42:43 soft
echo "S: chmod/chown $(stat -c '%a %u:%g' file y dir2) $(stat -c '%u:%g' soft)"
$h xattr-set file user.one 1; $h xattr-set file user.two "second value"; $h xattr-rm file user.one
$h xattr-list "$d/file"
truncate -s 3 file; echo "S: truncate $(cat file) size=$(stat -c %s file)"
truncate -s 100000 file; echo "S: extend size=$(stat -c %s file) tail_zero=$(tail -c 1 file | od -An -tx1 | tr -d ' ')"
$h sparse "$d/sparse"
$h mmap-write "$d/mapped" "written through mmap"
echo "S: mmap read $(cat mapped)"
$h count "$big"
echo "S: ls big $(ls "$big" | md5sum | cut -d' ' -f1) $(ls -a "$big" | wc -l)"
mkdir many; $h mkmany "$d/many" 300; $h count "$d/many"
rm many/f0000*; echo "S: after rm $(ls many | wc -l)"
mkfifo fifo; echo "S: fifo type=$(stat -c %F fifo)"
rmdir dir2/sub 2>/dev/null; echo "S: rmdir nonempty refused=$([ -d dir2/sub ] && echo yes || echo no)"
rm dir2/sub/f; rmdir dir2/sub; echo "S: rmdir empty=$([ -d dir2/sub ] && echo no || echo yes)"
echo "S: listing"
find . -path ./many -prune -o -print | sort | while read -r p; do
    t=$(stat -c %F "$p")
    case $t in
    directory) echo "S:  $p dir $(stat -c '%a %u:%g' "$p")" ;;
    "symbolic link") echo "S:  $p link -> $(readlink "$p") $(stat -c '%u:%g' "$p")" ;;
    "regular file"|"regular empty file") echo "S:  $p file $(stat -c '%a %s %h %u:%g' "$p") $(md5sum < "$p" | cut -d' ' -f1)" ;;
    *) echo "S:  $p $t $(stat -c '%a' "$p")" ;;
    esac
done
echo "S: end"
