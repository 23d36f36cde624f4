using System.Buffers.Binary;
using System.Text;

namespace EdgeProfile.Semantic.Text;

/// <summary>
/// Hashes that are the same in every process, on every machine and in every .NET version (unlike
/// <see cref="string.GetHashCode()"/>, which is randomised per process): 64-bit FNV-1a over the UTF-8 bytes of a
/// text, and a word-wise FNV-1a variant used as a checksum of binary files.
/// </summary>
public static class StableHash
{
    /// <summary>The FNV-1a 64-bit offset basis (the hash of no bytes).</summary>
    public const ulong Fnv1aOffsetBasis = 0xcbf29ce484222325UL;

    /// <summary>The FNV-1a 64-bit prime.</summary>
    public const ulong Fnv1aPrime = 0x100000001b3UL;

    /// <summary>64-bit FNV-1a of <paramref name="bytes"/>.</summary>
    public static ulong Fnv1a64(ReadOnlySpan<byte> bytes) => Fnv1a64(bytes, Fnv1aOffsetBasis);

    /// <summary>Continues a 64-bit FNV-1a hash (<paramref name="hash"/> is the state after the earlier bytes).</summary>
    public static ulong Fnv1a64(ReadOnlySpan<byte> bytes, ulong hash)
    {
        foreach (byte b in bytes)
        {
            hash = (hash ^ b) * Fnv1aPrime;
        }
        return hash;
    }

    /// <summary>64-bit FNV-1a of the UTF-8 encoding of <paramref name="text"/> (a lone surrogate counts as U+FFFD, as
    /// <see cref="Encoding.UTF8"/> encodes it).</summary>
    public static ulong Fnv1a64(ReadOnlySpan<char> text) => Fnv1a64(text, Fnv1aOffsetBasis);

    /// <summary>Continues a 64-bit FNV-1a hash over the UTF-8 encoding of <paramref name="text"/>.</summary>
    public static ulong Fnv1a64(ReadOnlySpan<char> text, ulong hash)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (rune.Value < 0x80)
            {
                hash = (hash ^ (byte)rune.Value) * Fnv1aPrime;
                continue;
            }
            int length = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < length; i++)
            {
                hash = (hash ^ utf8[i]) * Fnv1aPrime;
            }
        }
        return hash;
    }

    /// <summary>The 64-bit finaliser of MurmurHash3 (fmix64): spreads every input bit over every output bit, so the
    /// low bits of an FNV hash can pick a bucket and the top bit a sign independently.</summary>
    public static ulong Mix(ulong hash)
    {
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash;
    }

    /// <summary>Continues a fast checksum: FNV-1a over little-endian 64-bit words (then over the remaining bytes one
    /// by one). Not FNV-1a of the bytes; only meant to detect corrupted files.</summary>
    public static ulong Checksum(ReadOnlySpan<byte> bytes, ulong hash)
    {
        int words = bytes.Length / 8;
        for (int i = 0; i < words; i++)
        {
            hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(8 * i, 8))) * Fnv1aPrime;
        }
        return Fnv1a64(bytes[(8 * words)..], hash);
    }
}
