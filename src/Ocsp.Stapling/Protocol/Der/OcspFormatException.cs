namespace Ocsp.Stapling;

/// <summary>
/// Thrown when bytes that should hold an OCSP request, response or HTTP-encoded request cannot be decoded.
/// This is the only exception the decoders in this library throw for bad input.
/// </summary>
public sealed class OcspFormatException : FormatException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public OcspFormatException()
        : base("The data is not a well-formed OCSP structure.")
    {
    }

    /// <summary>Initializes a new instance with the given message.</summary>
    /// <param name="message">What was wrong with the input.</param>
    public OcspFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with the given message and the decoder's own exception.</summary>
    /// <param name="message">What was wrong with the input.</param>
    /// <param name="innerException">The exception raised by the underlying decoder.</param>
    public OcspFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
