using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;
using X86Sse2 = System.Runtime.Intrinsics.X86.Sse2;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// The mask generator: AES-128 in counter mode. Element <c>j</c> of the stream under key <c>k</c> is the
/// little-endian 64-bit word <c>j mod 2</c> of block <c>AES_k(LE64(j / 2) || 0^64)</c>; the key is used for one stream
/// only (it is derived by HKDF from a seed that is fresh every round), so a zero nonce is safe. Any AES
/// implementation reproduces it; here AES-NI is used when the CPU has it (eight blocks in flight), the platform's AES
/// (<see cref="System.Security.Cryptography.Aes.EncryptEcb(ReadOnlySpan{byte}, Span{byte}, PaddingMode)"/>) otherwise.
/// </summary>
public static class SecAggPrg
{
    /// <summary>Bytes of a generator key.</summary>
    public const int KeySize = 16;

    /// <summary>Adds the stream under <paramref name="key"/> to <paramref name="destination"/> (mod 2^64).</summary>
    public static void Add(ReadOnlySpan<byte> key, Span<ulong> destination) =>
        Apply(new PrgKey(key.ToArray()), destination, 0, subtract: false);

    /// <summary>Subtracts the stream under <paramref name="key"/> from <paramref name="destination"/> (mod 2^64).</summary>
    public static void Subtract(ReadOnlySpan<byte> key, Span<ulong> destination) =>
        Apply(new PrgKey(key.ToArray()), destination, 0, subtract: true);

    /// <summary>
    /// Adds or subtracts elements <c>[firstElement, firstElement + destination.Length)</c> of the stream;
    /// <paramref name="firstElement"/> must be even (a block boundary).
    /// </summary>
    internal static void Apply(PrgKey key, Span<ulong> destination, long firstElement, bool subtract)
    {
        if ((firstElement & 1) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(firstElement), firstElement, "must be even");
        }
        var firstBlock = (ulong)firstElement / 2;
        if (X86Aes.IsSupported && X86Sse2.IsSupported)
        {
            if (subtract)
            {
                ApplyAesNi<SubtractOp>(key.RoundKeys!, destination, firstBlock);
            }
            else
            {
                ApplyAesNi<AddOp>(key.RoundKeys!, destination, firstBlock);
            }
        }
        else
        {
            ApplyPortable(key.Key, destination, firstBlock, subtract);
        }
    }

    // Fully optimised from the first call: at tier 0 this loop is an order of magnitude slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplyAesNi<TOp>(Vector128<byte>[] rk, Span<ulong> destination, ulong firstBlock)
        where TOp : struct, IMaskOp
    {
        var k0 = rk[0];
        var k1 = rk[1];
        var k2 = rk[2];
        var k3 = rk[3];
        var k4 = rk[4];
        var k5 = rk[5];
        var k6 = rk[6];
        var k7 = rk[7];
        var k8 = rk[8];
        var k9 = rk[9];
        var k10 = rk[10];
        var one = Vector128.Create(1UL, 0UL);
        var counter = Vector128.Create(firstBlock, 0UL);
        ref var start = ref MemoryMarshal.GetReference(destination);
        var i = 0;
        for (; i + 16 <= destination.Length; i += 16)
        {
            var b0 = counter.AsByte() ^ k0;
            counter += one;
            var b1 = counter.AsByte() ^ k0;
            counter += one;
            var b2 = counter.AsByte() ^ k0;
            counter += one;
            var b3 = counter.AsByte() ^ k0;
            counter += one;
            var b4 = counter.AsByte() ^ k0;
            counter += one;
            var b5 = counter.AsByte() ^ k0;
            counter += one;
            var b6 = counter.AsByte() ^ k0;
            counter += one;
            var b7 = counter.AsByte() ^ k0;
            counter += one;
            b0 = X86Aes.Encrypt(b0, k1); b1 = X86Aes.Encrypt(b1, k1); b2 = X86Aes.Encrypt(b2, k1); b3 = X86Aes.Encrypt(b3, k1);
            b4 = X86Aes.Encrypt(b4, k1); b5 = X86Aes.Encrypt(b5, k1); b6 = X86Aes.Encrypt(b6, k1); b7 = X86Aes.Encrypt(b7, k1);
            b0 = X86Aes.Encrypt(b0, k2); b1 = X86Aes.Encrypt(b1, k2); b2 = X86Aes.Encrypt(b2, k2); b3 = X86Aes.Encrypt(b3, k2);
            b4 = X86Aes.Encrypt(b4, k2); b5 = X86Aes.Encrypt(b5, k2); b6 = X86Aes.Encrypt(b6, k2); b7 = X86Aes.Encrypt(b7, k2);
            b0 = X86Aes.Encrypt(b0, k3); b1 = X86Aes.Encrypt(b1, k3); b2 = X86Aes.Encrypt(b2, k3); b3 = X86Aes.Encrypt(b3, k3);
            b4 = X86Aes.Encrypt(b4, k3); b5 = X86Aes.Encrypt(b5, k3); b6 = X86Aes.Encrypt(b6, k3); b7 = X86Aes.Encrypt(b7, k3);
            b0 = X86Aes.Encrypt(b0, k4); b1 = X86Aes.Encrypt(b1, k4); b2 = X86Aes.Encrypt(b2, k4); b3 = X86Aes.Encrypt(b3, k4);
            b4 = X86Aes.Encrypt(b4, k4); b5 = X86Aes.Encrypt(b5, k4); b6 = X86Aes.Encrypt(b6, k4); b7 = X86Aes.Encrypt(b7, k4);
            b0 = X86Aes.Encrypt(b0, k5); b1 = X86Aes.Encrypt(b1, k5); b2 = X86Aes.Encrypt(b2, k5); b3 = X86Aes.Encrypt(b3, k5);
            b4 = X86Aes.Encrypt(b4, k5); b5 = X86Aes.Encrypt(b5, k5); b6 = X86Aes.Encrypt(b6, k5); b7 = X86Aes.Encrypt(b7, k5);
            b0 = X86Aes.Encrypt(b0, k6); b1 = X86Aes.Encrypt(b1, k6); b2 = X86Aes.Encrypt(b2, k6); b3 = X86Aes.Encrypt(b3, k6);
            b4 = X86Aes.Encrypt(b4, k6); b5 = X86Aes.Encrypt(b5, k6); b6 = X86Aes.Encrypt(b6, k6); b7 = X86Aes.Encrypt(b7, k6);
            b0 = X86Aes.Encrypt(b0, k7); b1 = X86Aes.Encrypt(b1, k7); b2 = X86Aes.Encrypt(b2, k7); b3 = X86Aes.Encrypt(b3, k7);
            b4 = X86Aes.Encrypt(b4, k7); b5 = X86Aes.Encrypt(b5, k7); b6 = X86Aes.Encrypt(b6, k7); b7 = X86Aes.Encrypt(b7, k7);
            b0 = X86Aes.Encrypt(b0, k8); b1 = X86Aes.Encrypt(b1, k8); b2 = X86Aes.Encrypt(b2, k8); b3 = X86Aes.Encrypt(b3, k8);
            b4 = X86Aes.Encrypt(b4, k8); b5 = X86Aes.Encrypt(b5, k8); b6 = X86Aes.Encrypt(b6, k8); b7 = X86Aes.Encrypt(b7, k8);
            b0 = X86Aes.Encrypt(b0, k9); b1 = X86Aes.Encrypt(b1, k9); b2 = X86Aes.Encrypt(b2, k9); b3 = X86Aes.Encrypt(b3, k9);
            b4 = X86Aes.Encrypt(b4, k9); b5 = X86Aes.Encrypt(b5, k9); b6 = X86Aes.Encrypt(b6, k9); b7 = X86Aes.Encrypt(b7, k9);
            b0 = X86Aes.EncryptLast(b0, k10); b1 = X86Aes.EncryptLast(b1, k10); b2 = X86Aes.EncryptLast(b2, k10); b3 = X86Aes.EncryptLast(b3, k10);
            b4 = X86Aes.EncryptLast(b4, k10); b5 = X86Aes.EncryptLast(b5, k10); b6 = X86Aes.EncryptLast(b6, k10); b7 = X86Aes.EncryptLast(b7, k10);
            ref var p = ref Unsafe.Add(ref start, i);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 0), b0.AsUInt64()).StoreUnsafe(ref p, 0);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 2), b1.AsUInt64()).StoreUnsafe(ref p, 2);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 4), b2.AsUInt64()).StoreUnsafe(ref p, 4);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 6), b3.AsUInt64()).StoreUnsafe(ref p, 6);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 8), b4.AsUInt64()).StoreUnsafe(ref p, 8);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 10), b5.AsUInt64()).StoreUnsafe(ref p, 10);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 12), b6.AsUInt64()).StoreUnsafe(ref p, 12);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 14), b7.AsUInt64()).StoreUnsafe(ref p, 14);
        }
        // Tail: one block at a time, the last possibly half used.
        for (; i < destination.Length; i += 2)
        {
            var block = counter.AsByte() ^ k0;
            counter += one;
            for (var r = 1; r < 10; r++)
            {
                block = X86Aes.Encrypt(block, rk[r]);
            }
            var words = X86Aes.EncryptLast(block, k10).AsUInt64();
            destination[i] = TOp.Apply(destination[i], words.GetElement(0));
            if (i + 1 < destination.Length)
            {
                destination[i + 1] = TOp.Apply(destination[i + 1], words.GetElement(1));
            }
        }
    }

    private static void ApplyPortable(byte[] key, Span<ulong> destination, ulong firstBlock, bool subtract)
    {
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = key;
        const int ChunkBlocks = 2048;
        var buffer = new byte[ChunkBlocks * 16];
        var words = MemoryMarshal.Cast<byte, ulong>(buffer.AsSpan());
        for (var i = 0; i < destination.Length; i += ChunkBlocks * 2)
        {
            var count = Math.Min(ChunkBlocks * 2, destination.Length - i);
            var blocks = (count + 1) / 2;
            for (var b = 0; b < blocks; b++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(b * 16), firstBlock + (ulong)(i / 2 + b));
                BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(b * 16 + 8), 0);
            }
            aes.EncryptEcb(buffer.AsSpan(0, blocks * 16), buffer.AsSpan(0, blocks * 16), PaddingMode.None);
            for (var j = 0; j < count; j++)
            {
                var w = BitConverter.IsLittleEndian ? words[j] : BinaryPrimitives.ReverseEndianness(words[j]);
                destination[i + j] = subtract ? destination[i + j] - w : destination[i + j] + w;
            }
        }
    }

    /// <summary>A generator key with its AES-128 round keys expanded once (AES-NI path).</summary>
    internal sealed class PrgKey
    {
        public PrgKey(byte[] key)
        {
            if (key.Length != KeySize)
            {
                throw new ArgumentException($"a generator key is {KeySize} bytes, got {key.Length}");
            }
            Key = key;
            if (X86Aes.IsSupported && X86Sse2.IsSupported)
            {
                RoundKeys = ExpandKey(Vector128.Create(key));
            }
        }

        public byte[] Key { get; }

        public Vector128<byte>[]? RoundKeys { get; }

        private static Vector128<byte>[] ExpandKey(Vector128<byte> key)
        {
            // AESKEYGENASSIST takes its round constant as an immediate, hence the unrolled schedule.
            var rk = new Vector128<byte>[11];
            rk[0] = key;
            rk[1] = Step(rk[0], X86Aes.KeygenAssist(rk[0], 0x01));
            rk[2] = Step(rk[1], X86Aes.KeygenAssist(rk[1], 0x02));
            rk[3] = Step(rk[2], X86Aes.KeygenAssist(rk[2], 0x04));
            rk[4] = Step(rk[3], X86Aes.KeygenAssist(rk[3], 0x08));
            rk[5] = Step(rk[4], X86Aes.KeygenAssist(rk[4], 0x10));
            rk[6] = Step(rk[5], X86Aes.KeygenAssist(rk[5], 0x20));
            rk[7] = Step(rk[6], X86Aes.KeygenAssist(rk[6], 0x40));
            rk[8] = Step(rk[7], X86Aes.KeygenAssist(rk[7], 0x80));
            rk[9] = Step(rk[8], X86Aes.KeygenAssist(rk[8], 0x1B));
            rk[10] = Step(rk[9], X86Aes.KeygenAssist(rk[9], 0x36));
            return rk;
        }

        private static Vector128<byte> Step(Vector128<byte> previous, Vector128<byte> assist)
        {
            assist = X86Sse2.Shuffle(assist.AsInt32(), 0xFF).AsByte();
            previous ^= X86Sse2.ShiftLeftLogical128BitLane(previous, 4);
            previous ^= X86Sse2.ShiftLeftLogical128BitLane(previous, 4);
            previous ^= X86Sse2.ShiftLeftLogical128BitLane(previous, 4);
            return previous ^ assist;
        }
    }

    private interface IMaskOp
    {
        static abstract Vector128<ulong> Apply(Vector128<ulong> value, Vector128<ulong> mask);

        static abstract ulong Apply(ulong value, ulong mask);
    }

    private readonly struct AddOp : IMaskOp
    {
        public static Vector128<ulong> Apply(Vector128<ulong> value, Vector128<ulong> mask) => value + mask;

        public static ulong Apply(ulong value, ulong mask) => unchecked(value + mask);
    }

    private readonly struct SubtractOp : IMaskOp
    {
        public static Vector128<ulong> Apply(Vector128<ulong> value, Vector128<ulong> mask) => value - mask;

        public static ulong Apply(ulong value, ulong mask) => unchecked(value - mask);
    }
}
