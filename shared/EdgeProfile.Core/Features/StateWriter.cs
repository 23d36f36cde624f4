using System.Buffers.Binary;
using System.Text;

namespace EdgeProfile.Core.Features;

/// <summary>
/// Appends the compact binary state format: zig-zag varints for integers and times, length-prefixed UTF-8 strings
/// (length + 1, so 0 spells null), little-endian doubles.
/// </summary>
internal sealed class StateWriter(int capacity = 256)
{
    private byte[] _buffer = new byte[Math.Max(capacity, 16)];
    private int _length;

    /// <summary>The event ids the panes being written refer to.</summary>
    public EventIds? Ids { get; set; }

    public void Byte(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

    public void VarUInt(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_length++] = (byte)value;
    }

    public void VarInt(long value) => VarUInt((ulong)((value << 1) ^ (value >> 63)));

    public void Double(double value)
    {
        Ensure(8);
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    public void String(string? value)
    {
        if (value is null)
        {
            VarUInt(0);
            return;
        }

        var bytes = Encoding.UTF8.GetByteCount(value);
        VarUInt((ulong)bytes + 1);
        Ensure(bytes);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    /// <summary>The id at <paramref name="index"/> of <see cref="Ids"/>, written as <see cref="String(string?)"/> writes it (a negative index: null).</summary>
    public void Id(int index)
    {
        if (index < 0)
        {
            VarUInt(0);
            return;
        }

        String(Ids!.Span(index));
    }

    /// <summary>Characters written as <see cref="String(string?)"/> writes a string of them.</summary>
    public void String(ReadOnlySpan<char> value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        VarUInt((ulong)bytes + 1);
        Ensure(bytes);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    /// <summary>What was written since the last <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>Starts over, keeping the buffer (and no customer's event ids).</summary>
    public void Reset()
    {
        _length = 0;
        Ids = null;
    }

    private void Ensure(int more)
    {
        if (_length + more <= _buffer.Length)
        {
            return;
        }

        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
    }
}
