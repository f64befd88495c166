/*
 * FopFraming — independent MO:DCA framing reference built on Apache FOP's MODCAParser
 * (org.apache.fop.afp.parser.MODCAParser from Debian's fop-core.jar).
 *
 * Used by test/checks/20-fop-modcaparser.sh (field list of every sample, compared with
 * `bin/afp dump`) and by bench/scan.sh (count-only throughput peer).
 *
 *   java FopFraming FILE...                    one line per field:
 *                                              FILE<TAB>OFFSET<TAB>LENGTH<TAB>ID
 *                                              (or FILE<TAB>ERROR<TAB>message, exit 1)
 *   java FopFraming --count [--repeat N] FILE  read + parse N times (default 1); prints
 *                                              "fields=F bytes=B" and, per run, "run=i ns=T"
 *
 * MODCAParser does not report offsets, so the input stream counts the bytes it hands out:
 * after a field is returned, the stream position is the end of that field, and the field began
 * SFLength + 1 bytes earlier (the X'5A' carriage control plus SFLength bytes). MODCAParser skips
 * any bytes before a X'5A', so gaps between fields show up as non-contiguous offsets.
 */
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.BufferedOutputStream;
import java.nio.file.Files;
import java.nio.file.Paths;

import org.apache.fop.afp.parser.MODCAParser;
import org.apache.fop.afp.parser.UnparsedStructuredField;

public final class FopFraming {

    /** Counts the bytes read through it. */
    static final class CountingInputStream extends FilterInputStream {
        long pos;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int c = super.read();
            if (c >= 0) {
                pos++;
            }
            return c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                pos += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long k = super.skip(n);
            if (k > 0) {
                pos += k;
            }
            return k;
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private static void hex6(StringBuilder sb, int id) {
        for (int shift = 20; shift >= 0; shift -= 4) {
            sb.append(HEX[(id >>> shift) & 0xF]);
        }
    }

    /**
     * Reads the whole file into memory (as bin/afp does) and serves it from a byte array:
     * MODCAParser calls available() before every field, which on a FileInputStream is a system
     * call per field, and that would measure the JDK rather than the parser.
     */
    private static CountingInputStream open(String path) throws IOException {
        return new CountingInputStream(new ByteArrayInputStream(Files.readAllBytes(Paths.get(path))));
    }

    /** Prints every field of one file; returns false on a parse error (reported in-band). */
    private static boolean list(String path, PrintStream out) {
        StringBuilder sb = new StringBuilder(64);
        try (CountingInputStream in = open(path)) {
            MODCAParser parser = new MODCAParser(in);
            UnparsedStructuredField sf;
            while ((sf = parser.readNextStructuredField()) != null) {
                int length = sf.getSfLength() & 0xFFFF;
                long offset = in.pos - 1 - length;
                sb.setLength(0);
                sb.append(path).append('\t').append(offset).append('\t').append(length).append('\t');
                hex6(sb, sf.getSfTypeID());
                out.println(sb);
            }
            return true;
        } catch (EOFException e) {
            out.println(path + "\tERROR\ttruncated structured field (EOF)");
        } catch (IOException | RuntimeException e) {
            out.println(path + "\tERROR\t" + e);
        }
        return false;
    }

    /** Parses one file without printing; returns {fields, bytes}. */
    private static long[] count(String path) throws IOException {
        long fields = 0;
        long bytes = 0;
        try (CountingInputStream in = open(path)) {
            MODCAParser parser = new MODCAParser(in);
            UnparsedStructuredField sf;
            while ((sf = parser.readNextStructuredField()) != null) {
                fields++;
                bytes += 1 + (sf.getSfLength() & 0xFFFF);
            }
        }
        return new long[] {fields, bytes};
    }

    public static void main(String[] args) throws IOException {
        if (args.length >= 2 && args[0].equals("--count")) {
            int repeat = 1;
            int i = 1;
            if (args.length >= 4 && args[1].equals("--repeat")) {
                repeat = Integer.parseInt(args[2]);
                i = 3;
            }
            if (i != args.length - 1) {
                usage();
            }
            long[] r = null;
            for (int run = 1; run <= repeat; run++) {
                long t0 = System.nanoTime();
                r = count(args[i]);
                long t1 = System.nanoTime();
                if (repeat > 1) {
                    System.out.println("run=" + run + " ns=" + (t1 - t0));
                }
            }
            System.out.println("fields=" + r[0] + " bytes=" + r[1]);
            return;
        }
        if (args.length == 0 || args[0].startsWith("--")) {
            usage();
        }
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false);
        boolean ok = true;
        for (String path : args) {
            ok &= list(path, out);
        }
        out.flush();
        System.exit(ok ? 0 : 1);
    }

    private static void usage() {
        System.err.println("usage: FopFraming FILE... | FopFraming --count [--repeat N] FILE");
        System.exit(2);
    }
}
