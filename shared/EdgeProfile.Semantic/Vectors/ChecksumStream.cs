using System.Buffers.Binary;
using System.Numerics;

namespace EdgeProfile.Semantic.Vectors;

/// <summary>A pass-through stream that hashes every byte written or read (a 4-lane 64-bit multiply-rotate hash,
/// independent of how the bytes are chunked), so index files can carry a checksum trailer.</summary>
internal sealed class ChecksumStream(Stream inner) : Stream
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private readonly byte[] _pending = new byte[32];
    private int _pendingCount;
    private long _length;
    private ulong _h0 = 0x60EA27EEADC0B5D6UL;
    private ulong _h1 = 0xC2B2AE3D27D4EB4FUL;
    private ulong _h2 = 0x165667B19E3779F9UL;
    private ulong _h3 = 0x61C8864E7A143579UL;

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    /// <summary>The hash of all bytes so far.</summary>
    public ulong Hash
    {
        get
        {
            ulong h0 = _h0, h1 = _h1, h2 = _h2, h3 = _h3;
            Span<byte> tail = stackalloc byte[32];
            tail.Clear();
            _pending.AsSpan(0, _pendingCount).CopyTo(tail);
            h0 = Mix(h0, BinaryPrimitives.ReadUInt64LittleEndian(tail));
            h1 = Mix(h1, BinaryPrimitives.ReadUInt64LittleEndian(tail[8..]));
            h2 = Mix(h2, BinaryPrimitives.ReadUInt64LittleEndian(tail[16..]));
            h3 = Mix(h3, BinaryPrimitives.ReadUInt64LittleEndian(tail[24..]));
            var h = h0 ^ BitOperations.RotateLeft(h1, 7) ^ BitOperations.RotateLeft(h2, 13) ^ BitOperations.RotateLeft(h3, 23) ^ (ulong)_length;
            h ^= h >> 33;
            h *= 0xFF51AFD7ED558CCDUL;
            h ^= h >> 33;
            h *= 0xC4CEB9FE1A85EC53UL;
            h ^= h >> 33;
            return h;
        }
    }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Update(buffer[..read]);
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Update(buffer);
        inner.Write(buffer);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private static ulong Mix(ulong h, ulong word) => BitOperations.RotateLeft((h ^ word) * Prime1, 31) * Prime2;

    private void Update(ReadOnlySpan<byte> data)
    {
        _length += data.Length;
        if (_pendingCount > 0)
        {
            var take = Math.Min(32 - _pendingCount, data.Length);
            data[..take].CopyTo(_pending.AsSpan(_pendingCount));
            _pendingCount += take;
            data = data[take..];
            if (_pendingCount < 32)
            {
                return;
            }

            Block(_pending);
            _pendingCount = 0;
        }

        while (data.Length >= 32)
        {
            Block(data);
            data = data[32..];
        }

        data.CopyTo(_pending);
        _pendingCount = data.Length;
    }

    private void Block(ReadOnlySpan<byte> block)
    {
        _h0 = Mix(_h0, BinaryPrimitives.ReadUInt64LittleEndian(block));
        _h1 = Mix(_h1, BinaryPrimitives.ReadUInt64LittleEndian(block[8..]));
        _h2 = Mix(_h2, BinaryPrimitives.ReadUInt64LittleEndian(block[16..]));
        _h3 = Mix(_h3, BinaryPrimitives.ReadUInt64LittleEndian(block[24..]));
    }
}
