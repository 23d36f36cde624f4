using System.Buffers.Binary;
using System.Text;

namespace EdgeProfile.Core.Features;

/// <summary>Reads what <see cref="StateWriter"/> wrote; truncated or malformed input throws <see cref="InvalidDataException"/>.</summary>
internal ref struct StateReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool AtEnd => _position == _data.Length;

    /// <summary>The format version of the data being read (set by the reader of the header), for older layouts.</summary>
    public int Version { get; set; }

    /// <summary>Where the panes being read put their event ids.</summary>
    public EventIds? Ids { get; set; }

    public byte Byte()
    {
        Need(1);
        return _data[_position++];
    }

    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        var b => throw new InvalidDataException($"state: {b} is not a boolean at byte {_position - 1}"),
    };

    public ulong VarUInt()
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = Byte();
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException($"state: varint too long at byte {_position}");
    }

    public long VarInt()
    {
        var raw = VarUInt();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>A count of items that each take at least one byte, so corrupt input cannot ask for a huge allocation.</summary>
    public int Count()
    {
        var n = VarUInt();
        if (n > (ulong)(_data.Length - _position))
        {
            throw new InvalidDataException($"state: count {n} exceeds the remaining {_data.Length - _position} bytes");
        }

        return (int)n;
    }

    public double Double()
    {
        Need(8);
        var v = BinaryPrimitives.ReadDoubleLittleEndian(_data[_position..]);
        _position += 8;
        return v;
    }

    /// <summary>A decimal as format version 1 wrote it (four little-endian 32-bit parts).</summary>
    public decimal LegacyDecimal()
    {
        Need(16);
        Span<int> bits = stackalloc int[4];
        for (var i = 0; i < 4; i++)
        {
            bits[i] = BinaryPrimitives.ReadInt32LittleEndian(_data[_position..]);
            _position += 4;
        }

        try
        {
            return new decimal(bits);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException("state: invalid decimal", ex);
        }
    }

    public string? String()
    {
        var n = VarUInt();
        if (n == 0)
        {
            return null;
        }

        var length = n - 1;
        if (length > (ulong)(_data.Length - _position))
        {
            throw new InvalidDataException($"state: string of {length} bytes exceeds the remaining {_data.Length - _position}");
        }

        var s = Encoding.UTF8.GetString(_data.Slice(_position, (int)length));
        _position += (int)length;
        return s;
    }

    public string RequiredString() =>
        String() ?? throw new InvalidDataException($"state: a required string is null at byte {_position - 1}");

    private readonly void Need(int bytes)
    {
        if (_data.Length - _position < bytes)
        {
            throw new InvalidDataException($"state: truncated at byte {_position} (needs {bytes} more)");
        }
    }
}
