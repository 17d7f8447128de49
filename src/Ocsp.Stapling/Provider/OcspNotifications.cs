using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>The registry's events, raised so that one failing subscriber stops neither the others nor the scheduler.</summary>
internal sealed class OcspNotifications(ILogger logger)
{
    /// <summary>Gets or sets the sender of every event (the provider façade).</summary>
    public object? Sender { get; set; }

    public event EventHandler<OcspStapleUpdatedEventArgs>? StapleUpdated;

    public event EventHandler<OcspStapleRemovedEventArgs>? StapleRemoved;

    public event EventHandler<OcspStapleFailedEventArgs>? StapleFailed;

    public event EventHandler<OcspCertificateRevokedEventArgs>? CertificateRevoked;

    public event EventHandler<OcspCertificateEventArgs>? CertificateRegistered;

    public event EventHandler<OcspCertificateEventArgs>? CertificateUnregistered;

    public void Updated(OcspStapleUpdatedEventArgs args) => Raise(StapleUpdated, args);

    public void Removed(OcspStapleRemovedEventArgs args) => Raise(StapleRemoved, args);

    public void Failed(OcspStapleFailedEventArgs args) => Raise(StapleFailed, args);

    public void Revoked(OcspCertificateRevokedEventArgs args) => Raise(CertificateRevoked, args);

    public void Registered(OcspCertificateEventArgs args) => Raise(CertificateRegistered, args);

    public void Unregistered(OcspCertificateEventArgs args) => Raise(CertificateUnregistered, args);

    private void Raise<T>(EventHandler<T>? handler, T args)
    {
        if (handler is null)
        {
            return;
        }

        foreach (EventHandler<T> subscriber in handler.GetInvocationList().Cast<EventHandler<T>>())
        {
            try
            {
                subscriber(Sender, args);
            }
#pragma warning disable CA1031 // Subscriber code is not ours; log and carry on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.SubscriberError(logger, typeof(T).Name, ex);
            }
        }
    }
}
