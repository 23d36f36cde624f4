using System.Runtime.CompilerServices;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// The engine's encoding of <see cref="Value"/>s as 64-bit codes, so that two values are equal exactly when their codes
/// are: a number is its IEEE-754 bits (<c>-0</c> stored as <c>0</c>, every NaN as one canonical NaN), a text is an
/// interned id in the payload of a negative quiet NaN (a bit pattern no number takes once NaNs are canonical). Numbers
/// thus need no table and compare on the primitive; texts are interned here. A symbol table may sit on a parent (the
/// shared materialisation's table, read-only once shared): the parent's ids are visible, new texts get ids after them.
/// </summary>
internal sealed class Symbols
{
    private const long TextTag = unchecked((long)0xFFF8_0000_0000_0000);
    private const long CanonicalNaN = 0x7FF8_0000_0000_0000;
    private const int CacheSize = 1024;

    private readonly Symbols? parent;
    private readonly int firstId;
    private readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);
    private readonly List<Value> texts = [];
    private readonly Value?[] cacheKeys = new Value?[CacheSize];
    private readonly long[] cacheCodes = new long[CacheSize];

    public Symbols(Symbols? parent = null)
    {
        this.parent = parent;
        firstId = parent is null ? 0 : parent.firstId + parent.texts.Count;
    }

    /// <summary>The code of a number.</summary>
    public static long Number(double number) =>
        number == 0 ? 0L : double.IsNaN(number) ? CanonicalNaN : BitConverter.DoubleToInt64Bits(number);

    /// <summary>Whether <paramref name="code"/> is a text.</summary>
    public static bool IsText(long code) => (ulong)code >> 51 == 0x1FFF;

    /// <summary>The number of a number code.</summary>
    public static double NumberOf(long code) => BitConverter.Int64BitsToDouble(code);

    /// <summary>The code of <paramref name="value"/>, interning its text here when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Encode(Value value)
    {
        if (value.Text is not { } text)
        {
            return Number(value.Number);
        }

        var slot = value.GetHashCode() & (CacheSize - 1);
        if (ReferenceEquals(cacheKeys[slot], value))
        {
            return cacheCodes[slot];
        }

        var id = Find(text);
        if (id < 0)
        {
            id = firstId + texts.Count;
            ids[text] = id;
            texts.Add(value);
        }

        var code = TextTag | (uint)id;
        cacheKeys[slot] = value;
        cacheCodes[slot] = code;
        return code;
    }

    /// <summary>The code of <paramref name="value"/> without interning (read-only, thread-safe once no one encodes);
    /// false for a text never seen.</summary>
    public bool TryEncode(Value value, out long code)
    {
        if (value.Text is not { } text)
        {
            code = Number(value.Number);
            return true;
        }

        var id = Find(text);
        code = id >= 0 ? TextTag | (uint)id : 0;
        return id >= 0;
    }

    /// <summary>The value of <paramref name="code"/>.</summary>
    public Value Decode(long code) => IsText(code) ? TextValue((int)(code & 0xFFFF_FFFF)) : Value.Of(NumberOf(code));

    /// <summary>The text of a text code.</summary>
    public string TextOf(long code) => TextValue((int)(code & 0xFFFF_FFFF)).Text!;

    /// <summary>Compares two codes as <see cref="Value.Compare"/> compares the values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Compare(long left, ComparisonOperator op, long right)
    {
        switch (op)
        {
            case ComparisonOperator.Equal:
                return left == right;
            case ComparisonOperator.NotEqual:
                return left != right;
        }

        var leftText = IsText(left);
        if (leftText != IsText(right))
        {
            return false;
        }

        if (!leftText)
        {
            double a = NumberOf(left), b = NumberOf(right);
            return op switch
            {
                ComparisonOperator.Less => a < b,
                ComparisonOperator.LessOrEqual => a <= b,
                ComparisonOperator.Greater => a > b,
                _ => a >= b,
            };
        }

        var c = string.CompareOrdinal(TextOf(left), TextOf(right));
        return op switch
        {
            ComparisonOperator.Less => c < 0,
            ComparisonOperator.LessOrEqual => c <= 0,
            ComparisonOperator.Greater => c > 0,
            _ => c >= 0,
        };
    }

    private int Find(string text)
    {
        if (parent is not null)
        {
            var inherited = parent.Find(text);
            if (inherited >= 0)
            {
                return inherited;
            }
        }

        return ids.TryGetValue(text, out var id) ? id : -1;
    }

    private Value TextValue(int id)
    {
        var table = this;
        while (id < table.firstId)
        {
            table = table.parent!;
        }

        return table.texts[id - table.firstId];
    }
}
