package dev.engram.trading.data;

/**
 * A bad row in a bar file: names the file, the line (1-based), the column and the value, and says why the value is
 * wrong. Its message is one line meant for the user.
 */
public final class BarFileException extends IllegalArgumentException {
    private final String file;
    private final long line;
    private final String column;
    private final String value;

    public BarFileException(String file, long line, String column, String value, String reason) {
        super(file + " line " + line + (column == null ? "" : ", column " + column)
                + (value == null ? "" : ": '" + value + "'") + " " + reason);
        this.file = file;
        this.line = line;
        this.column = column;
        this.value = value;
    }

    public String file() {
        return file;
    }

    public long line() {
        return line;
    }

    /** The column's name as in the header, or null when the whole row is at fault. */
    public String column() {
        return column;
    }

    /** The offending text, or null. */
    public String value() {
        return value;
    }
}
